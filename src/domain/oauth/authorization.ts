import { createHash, randomBytes } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { findOrganizationsByIds } from '../../store/repositories/organization-repository.js';
import { insertAuthorizationCode } from '../../store/repositories/oauth-repository.js';
import type { Store } from '../../store/store.js';
import { SCOPES, type Scope } from '../auth/token-service.js';
import type { ClientService, OAuthClient } from './clients.js';
import type { OAuthErrorCode } from './oauth-errors.js';
import { parseScopeParameter } from './scopes.js';
import { SIGNING_ALG, type SigningKeys } from './signing-keys.js';
import { hashOpaqueToken, type FormParams } from './token-endpoint.js';
import type { OperatorUser, UserService } from './users.js';

/** RFC 6749 4.1.2: codes are short-lived; 60 s is ample for a redirect and a token request. */
export const AUTHORIZATION_CODE_TTL_MS = 60_000;
/** How long the consent step may take after the password was checked. */
const CONSENT_TTL_SECONDS = 600;
const CONSENT_AUDIENCE = 'urn:customers-api:consent';
const CHALLENGE = /^[A-Za-z0-9\-_]{43}$/;

/** The authorization request parameters carried through the sign-in and consent forms. */
export const REQUEST_PARAMETERS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'prompt',
] as const;

const MAX_LENGTH: Record<(typeof REQUEST_PARAMETERS)[number], number> = {
  response_type: 32,
  client_id: 64,
  redirect_uri: 2000,
  scope: 1000,
  state: 1000,
  nonce: 500,
  code_challenge: 43,
  code_challenge_method: 16,
  prompt: 64,
};

export interface AuthorizationRequest {
  client: OAuthClient;
  redirectUri: string;
  state: string | undefined;
  nonce: string | undefined;
  codeChallenge: string;
  /** What the client asked for; the API scopes are narrowed to the user's at consent. */
  oidcScopes: string[];
  apiScopes: Scope[];
  /** The parameters as received, to carry through the forms. */
  parameters: Record<string, string>;
}

export type AuthorizationRequestResult =
  | { kind: 'ok'; request: AuthorizationRequest }
  /** RFC 6749 4.1.2.1: without a valid client and redirect URI the error is shown, never redirected. */
  | { kind: 'fatal'; message: string }
  | { kind: 'redirect'; location: string };

export interface ConsentGrant {
  scope: string[];
  organizations: { id: string; name: string }[];
}

export function errorRedirect(
  redirectUri: string,
  issuer: string,
  error: OAuthErrorCode,
  description: string,
  state: string | undefined,
): string {
  const url = new URL(redirectUri);
  url.searchParams.set('error', error);
  url.searchParams.set('error_description', description);
  if (state !== undefined) url.searchParams.set('state', state);
  // RFC 9207: the issuer in the response lets the client detect mix-up attacks.
  url.searchParams.set('iss', issuer);
  return url.toString();
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** A fingerprint of the request, so a consent ticket approves exactly the request the user saw. */
function requestFingerprint(parameters: Record<string, string>): string {
  return digest(JSON.stringify(REQUEST_PARAMETERS.map((name) => parameters[name] ?? null)));
}

/** The outcome of the sign-in step (the form's POST with email and password). */
export type SignInStepResult =
  | Exclude<AuthorizationRequestResult, { kind: 'ok' }>
  | { kind: 'invalid_credentials'; request: AuthorizationRequest }
  | { kind: 'rate_limited'; request: AuthorizationRequest; retryAfterSeconds: number }
  | { kind: 'consent'; request: AuthorizationRequest; user: OperatorUser; grant: ConsentGrant; ticket: string };

/** The outcome of the consent step (Allow or Deny). */
export type ConsentStepResult =
  | Exclude<AuthorizationRequestResult, { kind: 'ok' }>
  /** The ticket expired or belongs to another browser or request: sign in again. */
  | { kind: 'sign_in_again'; request: AuthorizationRequest };

export function createAuthorization(deps: {
  store: Store;
  clients: ClientService;
  keys: SigningKeys;
  users: UserService;
}) {
  const { store, clients, keys, users } = deps;

  const authorization = {
    /** Validates an authorization request (RFC 6749 4.1.1, RFC 7636 4.3, OpenID Connect Core 3.1.2.1). */
    async validate(params: FormParams, issuer: string): Promise<AuthorizationRequestResult> {
      const parameters: Record<string, string> = {};
      let tooLong: string | undefined;
      for (const name of REQUEST_PARAMETERS) {
        const value = params[name];
        if (value === undefined) continue;
        if (value.length > MAX_LENGTH[name]) {
          if (name === 'client_id' || name === 'redirect_uri') return { kind: 'fatal', message: `${name} is too long` };
          tooLong ??= name;
          continue;
        }
        parameters[name] = value;
      }
      const clientId = parameters.client_id;
      if (clientId === undefined || clientId === '') return { kind: 'fatal', message: 'client_id is missing' };
      const client = await clients.findClient(clientId, issuer);
      if (client === undefined) return { kind: 'fatal', message: 'The application (client_id) is unknown or revoked' };
      const redirectUri = parameters.redirect_uri;
      if (redirectUri === undefined) return { kind: 'fatal', message: 'redirect_uri is missing' };
      if (!client.redirectUris.includes(redirectUri))
        return { kind: 'fatal', message: 'redirect_uri is not registered for this application' };
      const state = parameters.state;
      const fail = (error: OAuthErrorCode, description: string): AuthorizationRequestResult => ({
        kind: 'redirect',
        location: errorRedirect(redirectUri, issuer, error, description, state),
      });
      if (tooLong !== undefined) return fail('invalid_request', `${tooLong} is too long`);
      if (parameters.response_type !== 'code')
        return parameters.response_type === undefined
          ? fail('invalid_request', 'response_type is missing')
          : fail('unsupported_response_type', 'Only response_type=code is supported');
      const codeChallenge = parameters.code_challenge;
      if (codeChallenge === undefined) return fail('invalid_request', 'code_challenge is required (PKCE, S256)');
      if (parameters.code_challenge_method !== 'S256')
        return fail('invalid_request', 'code_challenge_method must be S256');
      if (!CHALLENGE.test(codeChallenge))
        return fail('invalid_request', 'code_challenge must be a base64url SHA-256 (43 characters)');
      // OpenID Connect Core 3.1.2.6: there is no sign-in session to reuse, so a silent request cannot succeed.
      if ((parameters.prompt ?? '').split(' ').includes('none'))
        return fail('login_required', 'Signing in needs the user; prompt=none cannot be honoured');
      const requested = parseScopeParameter(parameters.scope ?? '');
      if ('unknown' in requested) return fail('invalid_scope', `Unknown scope "${requested.unknown}"`);
      const notGranted = requested.api.filter((s) => !client.scopes.includes(s));
      if (notGranted.length > 0)
        return fail('invalid_scope', `The application is not granted ${notGranted.join(', ')}`);
      return {
        kind: 'ok',
        request: {
          client,
          redirectUri,
          state,
          nonce: parameters.nonce,
          codeChallenge,
          oidcScopes: requested.oidc,
          apiScopes: requested.api.length > 0 ? requested.api : client.scopes,
          parameters,
        },
      };
    },

    /** What the user is asked to approve: the client's request narrowed to what the user holds. */
    async grantFor(request: AuthorizationRequest, user: OperatorUser): Promise<ConsentGrant> {
      const apiScopes = SCOPES.filter((s) => request.apiScopes.includes(s) && user.scopes.includes(s));
      const installed = request.client.organizationIds;
      // LOKE's rule for user tokens: the organizations the user may see AND that installed the client.
      const ids =
        installed === 'user' ? user.organizationIds : user.organizationIds.filter((id) => installed.includes(id));
      const rows = ids.length > 0 ? await findOrganizationsByIds(store.db, ids) : [];
      return {
        scope: [...request.oidcScopes, ...apiScopes],
        organizations: rows.map((row) => ({ id: row.id, name: row.name })).sort((a, b) => a.id.localeCompare(b.id)),
      };
    },

    /** A signed, short-lived proof that `user` passed the sign-in step for this request in this browser. */
    async consentTicket(request: AuthorizationRequest, user: OperatorUser, csrf: string, issuer: string) {
      const { kid, key } = await keys.signingKey();
      return new SignJWT({ req: requestFingerprint(request.parameters), csrf: digest(csrf), auth_time: Date.now() })
        .setProtectedHeader({ alg: SIGNING_ALG, kid, typ: 'consent+jwt' })
        .setIssuer(issuer)
        .setAudience(CONSENT_AUDIENCE)
        .setSubject(user.id)
        .setIssuedAt()
        .setExpirationTime(`${CONSENT_TTL_SECONDS}s`)
        .sign(key);
    },

    /** The user id and sign-in time a consent ticket vouches for, or undefined when it is not valid for this request. */
    async verifyConsentTicket(
      ticket: string,
      request: AuthorizationRequest,
      csrf: string,
      issuer: string,
    ): Promise<{ userId: string; authTime: number } | undefined> {
      try {
        const { payload } = await jwtVerify(
          ticket,
          async (header) => {
            const key = typeof header.kid === 'string' ? await keys.verificationKey(header.kid) : undefined;
            if (key === undefined) throw new Error('unknown key');
            return key;
          },
          { algorithms: [SIGNING_ALG], issuer, audience: CONSENT_AUDIENCE, typ: 'consent+jwt' },
        );
        if (payload.req !== requestFingerprint(request.parameters) || payload.csrf !== digest(csrf)) return undefined;
        if (typeof payload.sub !== 'string' || typeof payload.auth_time !== 'number') return undefined;
        return { userId: payload.sub, authTime: payload.auth_time };
      } catch {
        return undefined;
      }
    },

    /** Issues the authorization code the redirect carries; only its hash is stored. */
    async issueCode(
      request: AuthorizationRequest,
      user: OperatorUser,
      grant: ConsentGrant,
      authTime: number,
    ): Promise<string> {
      const code = randomBytes(32).toString('base64url');
      const now = Date.now();
      await insertAuthorizationCode(store.db, {
        code_hash: hashOpaqueToken(code),
        client_id: request.client.id,
        user_id: user.id,
        redirect_uri: request.redirectUri,
        code_challenge: request.codeChallenge,
        scope: grant.scope.join(' '),
        organization_ids: JSON.stringify(grant.organizations.map((o) => o.id)),
        nonce: request.nonce ?? null,
        auth_time: authTime,
        created_at: now,
        expires_at: now + AUTHORIZATION_CODE_TTL_MS,
        used_at: null,
        family_id: null,
      });
      return code;
    },

    /**
     * Checks the password (rate limited per account and per address, in the user service) and, when it is right,
     * returns what the consent page shows and a ticket that lets this browser approve exactly this request.
     */
    async signIn(input: {
      params: FormParams;
      email: string;
      password: string;
      address: string;
      csrf: string;
      issuer: string;
    }): Promise<SignInStepResult> {
      const validated = await authorization.validate(input.params, input.issuer);
      if (validated.kind !== 'ok') return validated;
      const { request } = validated;
      const result = await users.signIn({ email: input.email, password: input.password, address: input.address });
      if (!result.ok)
        return result.reason === 'rate_limited'
          ? { kind: 'rate_limited', request, retryAfterSeconds: result.retryAfterSeconds }
          : { kind: 'invalid_credentials', request };
      const grant = await authorization.grantFor(request, result.user);
      const ticket = await authorization.consentTicket(request, result.user, input.csrf, input.issuer);
      return { kind: 'consent', request, user: result.user, grant, ticket };
    },

    /** The user's answer on the consent page: a redirect with a code (allow) or with access_denied. */
    async consent(input: {
      params: FormParams;
      ticket: string;
      allow: boolean;
      csrf: string;
      issuer: string;
    }): Promise<ConsentStepResult> {
      const validated = await authorization.validate(input.params, input.issuer);
      if (validated.kind !== 'ok') return validated;
      const { request } = validated;
      const vouched = await authorization.verifyConsentTicket(input.ticket, request, input.csrf, input.issuer);
      const user = vouched && (await users.findUser(vouched.userId));
      if (vouched === undefined || user === undefined) return { kind: 'sign_in_again', request };
      if (!input.allow)
        return {
          kind: 'redirect',
          location: errorRedirect(
            request.redirectUri,
            input.issuer,
            'access_denied',
            'The user declined',
            request.state,
          ),
        };
      const grant = await authorization.grantFor(request, user);
      const code = await authorization.issueCode(request, user, grant, vouched.authTime);
      const url = new URL(request.redirectUri);
      url.searchParams.set('code', code);
      if (request.state !== undefined) url.searchParams.set('state', request.state);
      url.searchParams.set('iss', input.issuer);
      return { kind: 'redirect', location: url.toString() };
    },
  };
  return authorization;
}
export type Authorization = ReturnType<typeof createAuthorization>;
