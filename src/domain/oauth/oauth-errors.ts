/**
 * OAuth 2.0 error responses (RFC 6749 section 5.2, RFC 7009 section 2.2.1). The protocol endpoints answer
 * `{error, error_description}` as OAuth clients expect, never the API's error body.
 */
export const OAUTH_ERROR_CATALOG = {
  invalid_request: { status: 400, description: 'A parameter is missing, repeated, malformed or too long.' },
  invalid_client: { status: 401, description: 'Client authentication failed (unknown client, bad secret, revoked).' },
  invalid_grant: { status: 400, description: 'The code or refresh token is invalid, expired, used or revoked.' },
  unauthorized_client: { status: 400, description: 'The client may not use this grant type.' },
  unsupported_grant_type: { status: 400, description: 'The grant type is not supported.' },
  invalid_scope: { status: 400, description: 'A requested scope is unknown or not granted to the client.' },
  unsupported_response_type: { status: 400, description: 'Only response_type=code is supported.' },
  access_denied: { status: 400, description: 'The user declined the authorization request.' },
  login_required: { status: 400, description: 'prompt=none, but signing in needs the user (OpenID Connect).' },
  slow_down: { status: 429, description: 'Too many requests; retry after Retry-After seconds.' },
  server_error: { status: 500, description: 'An unexpected error.' },
  temporarily_unavailable: { status: 503, description: 'The database is unavailable; retry later.' },
} as const satisfies Record<string, { status: number; description: string }>;

export type OAuthErrorCode = keyof typeof OAUTH_ERROR_CATALOG;

export class OAuthError extends Error {
  override readonly name = 'OAuthError';
  readonly status: number;

  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
    this.status = OAUTH_ERROR_CATALOG[error].status;
  }
}

export const invalidRequest = (description: string) => new OAuthError('invalid_request', description);
export const invalidClient = (description = 'Client authentication failed') =>
  // RFC 6749 5.2: a 401 names the authentication scheme the client should use.
  new OAuthError('invalid_client', description, { 'www-authenticate': 'Basic realm="customers-api", charset="UTF-8"' });
export const invalidGrant = (description: string) => new OAuthError('invalid_grant', description);
export const invalidScope = (description: string) => new OAuthError('invalid_scope', description);
export const unauthorizedClient = (description: string) => new OAuthError('unauthorized_client', description);
export const unsupportedGrantType = (grantType: string) =>
  new OAuthError('unsupported_grant_type', `grant_type "${grantType.slice(0, 64)}" is not supported`);
