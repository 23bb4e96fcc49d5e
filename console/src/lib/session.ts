/**
 * The signed-in session: the bearer token lives in sessionStorage only (never a URL or localStorage), so it goes
 * with the tab. `scopes` is what the token is known to grant; undefined until found out.
 */
export interface Session {
  token: string;
  source: 'pasted' | 'oauth';
  scopes?: string[];
  organizationId?: string;
  /** Unix ms at which an OAuth access token expires. */
  expiresAt?: number;
}

const KEY = 'customers-console.session';
const PKCE_KEY = 'customers-console.pkce';
/** The organization the tab last showed, when the session names none (never picked in the selector). */
const ORGANIZATION_KEY = 'customers-console.organization';

export function loadSession(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(KEY);
    if (raw === null) return undefined;
    const session = JSON.parse(raw) as Session;
    return typeof session.token === 'string' && session.token !== '' ? session : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(session: Session | undefined): void {
  if (session === undefined) {
    sessionStorage.removeItem(KEY);
    sessionStorage.removeItem(ORGANIZATION_KEY);
  } else sessionStorage.setItem(KEY, JSON.stringify(session));
}

/** The organization to show, as far as the tab knows before the API lists the token's organizations. */
export function preferredOrganizationId(session: Session): string | undefined {
  return session.organizationId ?? sessionStorage.getItem(ORGANIZATION_KEY) ?? undefined;
}

export function rememberOrganization(id: string): void {
  sessionStorage.setItem(ORGANIZATION_KEY, id);
}

export const canWrite = (session: Session | undefined) => session?.scopes?.includes('customers:write') ?? false;
export const canManageWebhooks = (session: Session | undefined) =>
  session?.scopes?.includes('webhooks:manage') ?? false;

/** The scopes a JWT access token carries in its `scope` claim (RFC 9068); undefined for opaque tokens. */
export function scopesOfJwt(token: string): string[] | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const payload = JSON.parse(atob(parts[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { scope?: unknown };
    return typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : undefined;
  } catch {
    return undefined;
  }
}

// Authorization code + PKCE (RFC 7636) as the built-in public client `customers-console`.
export const CONSOLE_CLIENT_ID = 'customers-console';
export const CONSOLE_SCOPES = 'openid customers:read customers:write webhooks:manage';
export const callbackUrl = () => `${location.origin}/console/callback`;

const base64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');

function randomString(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** The /authorize URL to send the browser to; the verifier and state wait in sessionStorage for the callback. */
export async function authorizationUrl(): Promise<string> {
  if (!crypto.subtle) throw new Error('Sign-in needs a secure context: open the console over https or on localhost.');
  const verifier = randomString();
  const state = randomString(16);
  const challenge = base64url(
    new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))),
  );
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state }));
  const url = new URL('/authorize', location.origin);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: CONSOLE_CLIENT_ID,
    redirect_uri: callbackUrl(),
    scope: CONSOLE_SCOPES,
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  return url.toString();
}

interface TokenResponse {
  access_token?: string;
  scope?: string;
  expires_in?: number;
  error?: string;
  error_description?: string;
}

/** Exchanges the callback's code for an access token (the /token endpoint answers RFC 6749 errors). */
export async function completeSignIn(search: string): Promise<Session> {
  const params = new URLSearchParams(search);
  const saved = sessionStorage.getItem(PKCE_KEY);
  sessionStorage.removeItem(PKCE_KEY);
  if (params.get('error'))
    throw new Error(`Sign-in refused: ${params.get('error_description') ?? params.get('error')}`);
  const code = params.get('code');
  if (!code || saved === null) throw new Error('This sign-in link is incomplete or was already used; sign in again.');
  const { verifier, state } = JSON.parse(saved) as { verifier: string; state: string };
  if (params.get('state') !== state) throw new Error('The sign-in answer does not belong to this tab; sign in again.');
  const response = await fetch('/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: callbackUrl(),
      client_id: CONSOLE_CLIENT_ID,
      code_verifier: verifier,
    }).toString(),
  });
  const body = (await response.json().catch(() => ({}))) as TokenResponse;
  if (!response.ok || !body.access_token)
    throw new Error(`Sign-in failed: ${body.error_description ?? body.error ?? `HTTP ${response.status}`}`);
  const session: Session = {
    token: body.access_token,
    source: 'oauth',
    scopes: body.scope?.split(' ').filter(Boolean) ?? scopesOfJwt(body.access_token) ?? [],
  };
  if (body.expires_in) session.expiresAt = Date.now() + body.expires_in * 1000;
  return session;
}
