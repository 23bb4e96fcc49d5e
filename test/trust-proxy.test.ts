import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { describeEachBackend } from './helpers/backends.js';
import { createClientWithCli, createUserWithCli } from './helpers/oauth.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const PASSWORD = 'correct horse battery staple';
const REDIRECT_URI = 'http://127.0.0.1:9/callback';

function decodeHtml(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

describe('TRUST_PROXY configuration', () => {
  it('accepts false, a hop count and proxy addresses or ranges; refuses anything else', () => {
    expect(loadConfig({}).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: 'false' }).trustProxy).toBe(false);
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1' }).trustProxy).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
      '::1',
    ]);
    for (const bad of ['true', '0', '99', 'proxy.internal', '10.0.0.0/33', '10.0.0.1/8/9']) {
      expect(() => loadConfig({ TRUST_PROXY: bad }), bad).toThrow(/TRUST_PROXY/);
    }
  });
});

await describeEachBackend('sign-in limits per client address behind a proxy', (backend) => {
  async function setUp(env: Record<string, string>) {
    const server = await startTestServer(backend, {
      SIGNIN_MAX_FAILURES_PER_ADDRESS: '3',
      SIGNIN_MAX_FAILURES_PER_ACCOUNT: '100',
      ...env,
    });
    const org = await server.createOrganization('Proxied');
    const client = await createClientWithCli(server, [
      '--name',
      'Add-on',
      '--org',
      org.id,
      '--scopes',
      'customers:read',
      '--redirect-uri',
      REDIRECT_URI,
      '--public',
    ]);
    const user = await createUserWithCli(
      server,
      ['--email', 'operator@example.com', '--org', org.id, '--scopes', 'customers:read'],
      PASSWORD,
    );
    expect(user.code, user.stderr).toBe(0);
    return { server, clientId: client.client_id };
  }

  /** The sign-in form as a browser without JavaScript sends it, from `forwardedFor` as the proxy reports it. */
  async function signIn(server: TestServer, clientId: string, password: string, forwardedFor: string) {
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT_URI,
      scope: 'openid',
      state: 'state-1',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    const page = await fetch(`${server.baseUrl}/authorize?${query}`, { headers: { 'x-forwarded-for': forwardedFor } });
    expect(page.status).toBe(200);
    const cookie = page.headers.get('set-cookie')!.split(';')[0]!;
    const html = await page.text();
    const form = new URLSearchParams();
    for (const match of html.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
      form.set(decodeHtml(match[1]!), decodeHtml(match[2]!));
    }
    form.set('email', 'operator@example.com');
    form.set('password', password);
    const posted = await fetch(`${server.baseUrl}/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie, 'x-forwarded-for': forwardedFor },
      body: form.toString(),
      redirect: 'manual',
    });
    await posted.arrayBuffer();
    return posted.status;
  }

  describe('with TRUST_PROXY naming the proxy (127.0.0.1)', () => {
    let server: TestServer;
    let clientId: string;
    beforeAll(async () => ({ server, clientId } = await setUp({ TRUST_PROXY: '127.0.0.1' })));
    afterAll(async () => server?.close());

    it('counts failures per forwarded client address, so one client cannot lock out the others', async () => {
      for (let i = 0; i < 3; i++) expect(await signIn(server, clientId, 'wrong password', '203.0.113.5')).toBe(400);
      expect(await signIn(server, clientId, PASSWORD, '203.0.113.5')).toBe(429);
      expect(await signIn(server, clientId, 'wrong password', '203.0.113.6')).toBe(400);
      expect(await signIn(server, clientId, PASSWORD, '203.0.113.6')).toBe(200);
    });
  });

  describe('without TRUST_PROXY (the default)', () => {
    let server: TestServer;
    let clientId: string;
    beforeAll(async () => ({ server, clientId } = await setUp({})));
    afterAll(async () => server?.close());

    it('ignores X-Forwarded-For: a client cannot dodge the limit by naming other addresses', async () => {
      for (const address of ['198.51.100.1', '198.51.100.2', '198.51.100.3']) {
        expect(await signIn(server, clientId, 'wrong password', address)).toBe(400);
      }
      expect(await signIn(server, clientId, PASSWORD, '198.51.100.4')).toBe(429);
    });
  });
});
