import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachBackend } from './helpers/backends.js';
import { createUserWithCli } from './helpers/oauth.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const PASSWORD = 'correct horse battery staple';

/** The hidden inputs of a page's form, as a browser would post them back. */
function hiddenFields(html: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const match of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    fields[match[1]!] = match[2]!.replaceAll('&amp;', '&').replaceAll('&quot;', '"').replaceAll('&lt;', '<');
  }
  return fields;
}

await describeEachBackend('the built-in console client: authorization code + PKCE end to end', (backend) => {
  let server: TestServer;
  let orgId: string;
  beforeAll(async () => {
    server = await startTestServer(backend);
    orgId = (await server.createOrganization()).id;
    const created = await createUserWithCli(
      server,
      ['--email', 'ops@example.com', '--org', orgId, '--scopes', 'customers:read'],
      PASSWORD,
    );
    expect(created.code, created.stderr).toBe(0);
  });
  afterAll(async () => server?.close());

  it('signs in as customers-console with redirect {publicUrl}/console/callback and reads with the token', async () => {
    const redirectUri = `${server.baseUrl}/console/callback`;
    const verifier = randomBytes(32).toString('base64url');
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const authorize = new URL(`${server.baseUrl}/authorize`);
    for (const [name, value] of Object.entries({
      response_type: 'code',
      client_id: 'customers-console',
      redirect_uri: redirectUri,
      scope: 'openid customers:read',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      state: 'state-1',
    }))
      authorize.searchParams.set(name, value);
    const page = await fetch(authorize);
    expect(page.status).toBe(200);
    const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
    const post = (fields: Record<string, string>) =>
      fetch(`${server.baseUrl}/authorize`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
        body: new URLSearchParams(fields),
      });
    const signIn = await post({ ...hiddenFields(await page.text()), email: 'ops@example.com', password: PASSWORD });
    expect(signIn.status).toBe(200);
    const consent = await post({ ...hiddenFields(await signIn.text()), decision: 'allow' });
    expect(consent.status).toBe(303);
    const callback = new URL(consent.headers.get('location')!);
    expect(`${callback.origin}${callback.pathname}`).toBe(redirectUri);
    expect(callback.searchParams.get('state')).toBe('state-1');

    // A public client: no secret, the verifier proves the caller started the flow.
    const exchange = (codeVerifier: string) =>
      fetch(`${server.baseUrl}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: 'customers-console',
          code: callback.searchParams.get('code')!,
          redirect_uri: redirectUri,
          code_verifier: codeVerifier,
        }),
      });
    const response = await exchange(verifier);
    expect(response.status).toBe(200);
    const tokens = (await response.json()) as { access_token: string; token_type: string };
    expect(tokens.token_type).toMatch(/^bearer$/i);
    const read = await server.request('GET', `/organizations/${orgId}/insights`, { token: tokens.access_token });
    expect(read.status, read.text).toBe(200);
    const write = await server.request('POST', `/organizations/${orgId}/customers`, {
      token: tokens.access_token,
      body: { firstName: 'No', lastName: 'Scope' },
    });
    expect(write.status).toBe(403);
    // The code is single use: a replay is refused (and revokes what it granted).
    expect((await exchange(verifier)).status).toBe(400);
  });
});
