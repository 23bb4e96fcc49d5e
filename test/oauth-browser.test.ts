import fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as client from 'openid-client';
import { chromium, type BrowserContext, type Page, type Response } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeEachBackend } from './helpers/backends.js';
import {
  createClientWithCli,
  createUserWithCli,
  discover,
  eventually,
  type RegisteredClient,
} from './helpers/oauth.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { CHROMIUM, CHROMIUM_ARGS, HAS_CHROMIUM } from './helpers/chromium.js';

/**
 * The authorization-code flow end to end in a real browser (Debian's chromium driven by playwright-core; never a
 * downloaded browser), with openid-client as the relying party: sign in, consent, redirect with a code, exchange
 * with PKCE, refresh, refresh-token reuse detection, and each refusal. JavaScript is off in the browser: the pages
 * must work without it.
 */

/** Git-ignored; look at them after a run. */
const SCREENSHOTS = new URL('./.screenshots/', import.meta.url).pathname;
const PASSWORD = 'correct horse battery staple';
const SCOPE = 'openid offline_access customers:read';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 120_000 });

/** A loopback redirect receiver, as an add-on's callback: records every request it gets. */
async function startReceiver(): Promise<{ server: Server; base: string; received: URL[] }> {
  const received: URL[] = [];
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    // The browser asks each origin for a favicon at some point; only the redirects count.
    if (url.pathname === '/favicon.ico') return void response.writeHead(404).end();
    received.push(url);
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><title>Add-on</title><h1>Add-on callback received</h1>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

async function launchBrowser(): Promise<{ context: BrowserContext; userDataDir: string }> {
  if (!HAS_CHROMIUM) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)`);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'oauth-browser-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    javaScriptEnabled: false,
    args: CHROMIUM_ARGS,
  });
  return { context, userDataDir };
}

async function suite(title: string, body: Parameters<typeof describeEachBackend>[1]): Promise<void> {
  // In CI a missing chromium is a failure (launchBrowser throws), never a skip.
  if (HAS_CHROMIUM || process.env.CI) await describeEachBackend(title, body);
  else describe.skip(`${title} [${CHROMIUM} missing, skipped]`, () => undefined);
}

await suite('OAuth authorization code in a browser (chromium, openid-client)', (backend) => {
  let server: TestServer;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let context: BrowserContext;
  let userDataDir: string;
  let page: Page;
  let addOn: RegisteredClient;
  let config: client.Configuration;
  let orgA: string;
  let customerA: string;
  let redirectUri: string;
  const cspViolations: string[] = [];

  const shot = (name: string) =>
    page.screenshot({ path: path.join(SCREENSHOTS, `${backend.name}-${name}.png`), fullPage: true });

  beforeAll(async () => {
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
    receiver = await startReceiver();
    redirectUri = `${receiver.base}/callback`;
    server = await startTestServer(backend, {
      SIGNIN_MAX_FAILURES_PER_ACCOUNT: '3',
      SIGNIN_MAX_FAILURES_PER_ADDRESS: '12',
    });
    orgA = (await server.createOrganization('Acme Coffee')).id;
    const orgB = (await server.createOrganization('Not installed')).id;
    customerA = (await server.createCustomer(orgA, { email: 'a@example.com' })).id;
    addOn = await createClientWithCli(server, [
      '--name',
      'Loyalty add-on',
      '--org',
      orgA,
      '--scopes',
      'customers:read',
      '--redirect-uri',
      redirectUri,
    ]);
    for (const email of ['operator@example.com', 'locked@example.com']) {
      const created = await createUserWithCli(
        server,
        ['--email', email, '--org', orgA, '--org', orgB, '--scopes', 'customers:read,customers:write'],
        PASSWORD,
      );
      expect(created.code, created.stderr).toBe(0);
    }
    config = await discover(server, addOn.client_id, client.ClientSecretBasic(addOn.client_secret));
    ({ context, userDataDir } = await launchBrowser());
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text());
    });
  });
  afterAll(async () => {
    await context?.close();
    if (userDataDir) fs.rmSync(userDataDir, { recursive: true, force: true });
    await new Promise((resolve) => receiver?.server.close(resolve));
    await server?.close();
  });

  async function authorizationUrl(overrides: Record<string, string | undefined> = {}) {
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    const parameters: Record<string, string> = {
      redirect_uri: redirectUri,
      scope: SCOPE,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    };
    for (const [name, value] of Object.entries(overrides)) {
      if (value === undefined) delete parameters[name];
      else parameters[name] = value;
    }
    return { url: client.buildAuthorizationUrl(config, parameters), verifier, state, nonce };
  }

  /** Fills in the sign-in form and submits it; resolves with the response to the POST. */
  async function submitSignIn(email: string, password: string): Promise<Response> {
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    const posted = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/authorize'));
    // The answer is a new document at the same URL: wait until it replaced the form, not just for the response.
    const navigated = page.waitForEvent('framenavigated', (frame) => frame === page.mainFrame());
    await page.getByRole('button', { name: 'Sign in' }).click();
    const response = await posted;
    await navigated;
    await page.waitForLoadState();
    return response;
  }

  /** Sign-in and consent; resolves with the URL the browser was sent back to. */
  async function authorize(url: URL): Promise<URL> {
    const before = receiver.received.length;
    await page.goto(url.href);
    expect((await submitSignIn('Operator@Example.com', PASSWORD)).status()).toBe(200);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((u) => u.href.startsWith(redirectUri));
    expect(receiver.received.length).toBe(before + 1);
    return new URL(page.url());
  }

  async function grantError(grant: Promise<unknown>): Promise<{ error?: string; status?: number }> {
    const error = await grant.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(client.ResponseBodyError);
    return error as client.ResponseBodyError;
  }

  const getCustomer = (token: string) =>
    server.request('GET', `/organizations/${orgA}/customers/${customerA}`, { token });

  it('serves the pages with a strict CSP, no framing, no caching, and a stylesheet that loads', async () => {
    const { url } = await authorizationUrl();
    const response = (await page.goto(url.href))!;
    expect(response.status()).toBe(200);
    const headers = await response.allHeaders();
    expect(headers['content-security-policy']).toBe(
      "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    expect(headers['x-frame-options']).toBe('DENY');
    expect(headers['cache-control']).toBe('no-store');
    expect(headers['set-cookie']).toMatch(
      /^authorize_csrf=[A-Za-z0-9_-]{43}; Path=\/authorize; HttpOnly; SameSite=Lax$/,
    );
    expect((await page.getByRole('heading', { level: 1 }).innerText()).trim()).toBe('Sign in');
    await shot('1-sign-in');
    expect(await page.getByText('Loyalty add-on').isVisible()).toBe(true);
    // The stylesheet applied (the CSP lets our own origin's stylesheet through, and nothing inline).
    const background = await page
      .getByRole('button', { name: 'Sign in' })
      .evaluate((button) => getComputedStyle(button).backgroundColor);
    expect(background).toBe('rgb(29, 78, 216)');
    // Keyboard: the email field has focus on load, Tab moves to the password, and the focus ring is visible.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('email');
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const element = document.activeElement as HTMLElement;
      return { id: element.id, outline: getComputedStyle(element).outlineStyle };
    });
    expect(focused).toEqual({ id: 'password', outline: 'solid' });
    const css = await server.request('GET', '/authorize/style.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(cspViolations).toEqual([]);
  });

  let firstTokens: client.TokenEndpointResponse & client.TokenEndpointResponseHelpers;

  it('signs in, asks consent naming the client and the scopes, and redirects with code, state and iss', async () => {
    const { url, verifier, state, nonce } = await authorizationUrl();
    await page.goto(url.href);
    expect((await submitSignIn('Operator@Example.com', PASSWORD)).status()).toBe(200);
    await shot('2-consent');
    expect((await page.getByRole('heading', { level: 1 }).innerText()).trim()).toBe(
      'Allow Loyalty add-on to use your account?',
    );
    const text = await page.locator('main').innerText();
    expect(text).toContain('operator@example.com');
    expect(text).toContain('Read customers, customer lists and events');
    expect(text).toContain('Stay signed in');
    // Only the organization that installed the add-on, and only the scope the add-on holds.
    expect(text).toContain('Acme Coffee');
    expect(text).not.toContain('Not installed');
    expect(text).not.toContain('customers:write');
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((u) => u.href.startsWith(redirectUri));
    await shot('3-callback');
    const callback = new URL(page.url());
    expect(callback.searchParams.get('state')).toBe(state);
    expect(callback.searchParams.get('iss')).toBe(server.baseUrl);
    expect(callback.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // openid-client checks iss (RFC 9207), state, PKCE, the ID token's signature and nonce.
    firstTokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
      idTokenExpected: true,
    });
    expect(firstTokens.scope).toBe(SCOPE);
    expect(firstTokens.refresh_token).toEqual(expect.any(String));
    const user = await server.store.db
      .selectFrom('oauth_users')
      .select('id')
      .where('email_normalized', '=', 'operator@example.com')
      .executeTakeFirstOrThrow();
    expect(firstTokens.claims()).toMatchObject({ sub: user.id, aud: addOn.client_id, iss: server.baseUrl });
    expect((await getCustomer(firstTokens.access_token)).status).toBe(200);
    expect(cspViolations).toEqual([]);
  });

  it('rotates the refresh token, and reuse of the old one revokes the whole family', async () => {
    const refreshed = await client.refreshTokenGrant(config, firstTokens.refresh_token!);
    expect(refreshed.refresh_token).toEqual(expect.any(String));
    expect(refreshed.refresh_token).not.toBe(firstTokens.refresh_token);
    expect((await getCustomer(refreshed.access_token)).status).toBe(200);

    const reused = await grantError(client.refreshTokenGrant(config, firstTokens.refresh_token!));
    expect(reused.error).toBe('invalid_grant');
    // The family is gone: the successor is refused too, and its access tokens stop working.
    expect((await grantError(client.refreshTokenGrant(config, refreshed.refresh_token!))).error).toBe('invalid_grant');
    await eventually(
      async () => (await getCustomer(refreshed.access_token)).status === 401,
      'the revoked family’s access token is refused',
    );
    expect((await getCustomer(firstTokens.access_token)).status).toBe(401);
  });

  it('refuses an exchange without PKCE or with a wrong verifier, and a replayed code (revoking its tokens)', async () => {
    // LOKE's spelling of offline_access gets a refresh token too.
    const { url, verifier, state, nonce } = await authorizationUrl({ scope: 'openid offline customers:read' });
    const callback = await authorize(url);
    const code = callback.searchParams.get('code')!;
    const exchange = (extra: Record<string, string>) =>
      fetch(`${server.baseUrl}/token`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${addOn.client_id}:${addOn.client_secret}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, ...extra }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { error: string } }));
    expect(await exchange({})).toEqual({ status: 400, body: expect.objectContaining({ error: 'invalid_request' }) });
    expect(await exchange({ code_verifier: client.randomPKCECodeVerifier() })).toEqual({
      status: 400,
      body: expect.objectContaining({ error: 'invalid_grant' }),
    });
    const tokens = await client.authorizationCodeGrant(config, callback, {
      pkceCodeVerifier: verifier,
      expectedState: state,
      expectedNonce: nonce,
    });
    expect((await getCustomer(tokens.access_token)).status).toBe(200);
    const replay = await grantError(
      client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: verifier,
        expectedState: state,
        expectedNonce: nonce,
      }),
    );
    expect(replay.error).toBe('invalid_grant');
    // RFC 6749 4.1.2: what the replayed code was exchanged for is revoked.
    expect((await grantError(client.refreshTokenGrant(config, tokens.refresh_token!))).error).toBe('invalid_grant');
    await eventually(
      async () => (await getCustomer(tokens.access_token)).status === 401,
      'the replayed code’s access token is refused',
    );
    const row = await server.store.db
      .selectFrom('oauth_authorization_codes')
      .select(['used_at', 'expires_at', 'created_at', 'client_id', 'redirect_uri'])
      .where('used_at', 'is not', null)
      .orderBy('created_at', 'desc')
      .executeTakeFirstOrThrow();
    expect(Number(row.expires_at) - Number(row.created_at)).toBe(60_000);
    expect(row).toMatchObject({ client_id: addOn.client_id, redirect_uri: redirectUri });
  });

  it('sends access_denied back with state and iss when the user clicks Deny, and issues no code', async () => {
    const codes = async () =>
      (await server.store.db.selectFrom('oauth_authorization_codes').selectAll().execute()).length;
    const before = await codes();
    const { url, state } = await authorizationUrl();
    await page.goto(url.href);
    expect((await submitSignIn('operator@example.com', PASSWORD)).status()).toBe(200);
    await page.getByRole('button', { name: 'Deny' }).click();
    await page.waitForURL((u) => u.href.startsWith(redirectUri));
    const callback = new URL(page.url());
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe(state);
    expect(callback.searchParams.get('iss')).toBe(server.baseUrl);
    expect(callback.searchParams.has('code')).toBe(false);
    expect(await codes()).toBe(before);
  });

  it('refuses an authorization request without PKCE, redirecting invalid_request back with state and iss', async () => {
    const before = receiver.received.length;
    const { url, state } = await authorizationUrl({ code_challenge: undefined, code_challenge_method: undefined });
    await page.goto(url.href);
    await page.waitForURL((u) => u.href.startsWith(redirectUri));
    const callback = new URL(page.url());
    expect(callback.searchParams.get('error')).toBe('invalid_request');
    expect(callback.searchParams.get('error_description')).toContain('code_challenge');
    expect(callback.searchParams.get('state')).toBe(state);
    expect(callback.searchParams.get('iss')).toBe(server.baseUrl);
    expect(callback.searchParams.has('code')).toBe(false);
    expect(receiver.received.length).toBe(before + 1);
    const plain = await authorizationUrl({ code_challenge_method: 'plain' });
    await page.goto(plain.url.href);
    expect(new URL(page.url()).searchParams.get('error')).toBe('invalid_request');
    // There is no sign-in session to reuse, so a silent request (OpenID Connect prompt=none) cannot succeed.
    const silent = await authorizationUrl({ prompt: 'none' });
    await page.goto(silent.url.href);
    expect(new URL(page.url()).searchParams.get('error')).toBe('login_required');
    expect(new URL(page.url()).searchParams.get('state')).toBe(silent.state);
    const scope = await authorizationUrl({ scope: 'openid customers:write' });
    await page.goto(scope.url.href);
    expect(new URL(page.url()).searchParams.get('error')).toBe('invalid_scope');
  });

  it('shows an unregistered redirect URI or an unknown client as an error page, never redirecting', async () => {
    const before = receiver.received.length;
    for (const [name, overrides] of [
      ['wrong-redirect-uri', { redirect_uri: `${receiver.base}/elsewhere` }],
      ['redirect-uri-prefix', { redirect_uri: `${redirectUri}/more` }],
    ] as const) {
      const { url } = await authorizationUrl(overrides);
      const response = (await page.goto(url.href))!;
      expect(response.status()).toBe(400);
      expect(new URL(page.url()).origin).toBe(server.baseUrl);
      expect((await page.getByRole('alert').innerText()).trim()).toBe(
        'redirect_uri is not registered for this application',
      );
      await shot(name);
    }
    const { url } = await authorizationUrl();
    url.searchParams.set('client_id', 'no-such-client');
    const response = (await page.goto(url.href))!;
    expect(response.status()).toBe(400);
    expect((await page.getByRole('alert').innerText()).trim()).toBe(
      'The application (client_id) is unknown or revoked',
    );
    expect(receiver.received.length).toBe(before);
  });

  it('refuses a wrong password on the page, and the consent step sent without the browser’s cookie', async () => {
    const before = receiver.received.length;
    const { url } = await authorizationUrl();
    await page.goto(url.href);
    const response = await submitSignIn('operator@example.com', 'not the password at all');
    expect(response.status()).toBe(400);
    expect((await page.getByRole('alert').innerText()).trim()).toBe('The email or the password is wrong.');
    expect(await page.getByLabel('Email').inputValue()).toBe('operator@example.com');
    expect(await page.getByLabel('Password').getAttribute('aria-invalid')).toBe('true');
    await shot('wrong-password');
    expect(receiver.received.length).toBe(before);

    // A forged cross-site form: the right fields and even a valid ticket, but not the browser's CSRF cookie.
    expect((await submitSignIn('operator@example.com', PASSWORD)).status()).toBe(200);
    const form = Object.fromEntries(
      await page
        .locator('form input[type="hidden"]')
        .evaluateAll((inputs) => inputs.map((i) => [(i as HTMLInputElement).name, (i as HTMLInputElement).value])),
    ) as Record<string, string>;
    const forged = await fetch(`${server.baseUrl}/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ...form, decision: 'allow' }),
      redirect: 'manual',
    });
    expect(forged.status).toBe(403);
    expect(await forged.text()).toContain('This form has expired');
    // With a cookie of its own the forger still fails: the ticket is bound to the victim's token.
    const ownToken = 'A'.repeat(43);
    const withOwnCookie = await fetch(`${server.baseUrl}/authorize`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: `authorize_csrf=${ownToken}` },
      body: new URLSearchParams({ ...form, csrf: ownToken, decision: 'allow' }),
      redirect: 'manual',
    });
    expect(withOwnCookie.status).toBe(400);
    expect(await withOwnCookie.text()).toContain('Your sign-in has expired');
    expect(receiver.received.length).toBe(before);
  });

  it('limits failed sign-ins per account, then per address, with a clear 429 page', async () => {
    const { url } = await authorizationUrl();
    await page.goto(url.href);
    for (let i = 0; i < 3; i++)
      expect((await submitSignIn('locked@example.com', 'wrong password!!')).status()).toBe(400);
    // Past the limit even the right password is refused, so guessing on cannot find it.
    const limited = await submitSignIn('locked@example.com', PASSWORD);
    expect(limited.status()).toBe(429);
    expect(Number(await limited.headerValue('retry-after'))).toBeGreaterThan(800);
    expect((await page.getByRole('heading', { level: 1 }).innerText()).trim()).toBe('Too many sign-in attempts');
    expect(await page.getByRole('alert').innerText()).toContain('Try again in 15 minutes');
    await shot('rate-limited');
    // Another account still signs in from this address (4 failures so far of the address's 12).
    await page.goto(url.href);
    expect((await submitSignIn('operator@example.com', PASSWORD)).status()).toBe(200);
    // Spraying other accounts from one address hits the per-address limit.
    let status = 400;
    for (let i = 0; i < 12 && status === 400; i++) {
      await page.goto(url.href);
      status = (await submitSignIn(`nobody${i}@example.com`, 'wrong password!!')).status();
    }
    expect(status).toBe(429);
    await page.goto(url.href);
    expect((await submitSignIn('operator@example.com', PASSWORD)).status()).toBe(429);
  });
});
