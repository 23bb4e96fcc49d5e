import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { SCOPES } from '../../domain/auth/token-service.js';
import { OAuthError } from '../../domain/oauth/oauth-errors.js';
import { AppError } from '../../errors.js';
import { SUPPORTED_SCOPES } from '../../domain/oauth/scopes.js';
import { SIGNING_ALG } from '../../domain/oauth/signing-keys.js';
import type { Services } from '../../services.js';
import { formBodyOf, FormBodyError, registerFormBody } from '../form-body.js';
import { requestOrigin } from '../next-page.js';
import {
  DiscoverySchema,
  JwksSchema,
  OAuthErrorRef,
  RevocationRequestSchema,
  TokenRequestSchema,
  TokenResponseSchema,
} from '../../contract/oauth.js';

export const OAUTH_PATHS = {
  discovery: '/.well-known/openid-configuration',
  jwks: '/jwks',
  authorize: '/authorize',
  token: '/token',
  revoke: '/revoke',
} as const;

const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'];

// RFC 6749 5.1: token responses must not be cached.
const NO_STORE = { 'cache-control': 'no-store', pragma: 'no-cache' };

function sendOAuthError(reply: FastifyReply, error: OAuthError) {
  return reply
    .code(error.status)
    .headers({ ...NO_STORE, ...error.headers })
    .type('application/json; charset=utf-8')
    .send({ error: error.error, error_description: error.description });
}

/** Maps every failure on the protocol endpoints to an RFC 6749 error body instead of the API's. */
export function oauthErrorFor(error: FastifyError, request: FastifyRequest, isUnavailable: boolean): OAuthError {
  if (error instanceof OAuthError) return error;
  if (error instanceof FormBodyError) return new OAuthError('invalid_request', error.message);
  if (error.validation) {
    const issue = error.validation[0];
    const field = issue?.instancePath.replace(/^\//, '') || 'body';
    return new OAuthError('invalid_request', `${field} ${issue?.message ?? 'is invalid'}`);
  }
  if (isUnavailable) return new OAuthError('temporarily_unavailable', 'The database is unavailable; retry later');
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new OAuthError('invalid_request', 'The request body is too large');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new OAuthError('invalid_request', 'Send the parameters as application/x-www-form-urlencoded');
  }
  // The app-wide hooks (control characters, hosts) refuse with an AppError, which carries its status as `status`.
  const status = error instanceof AppError ? error.status : (error.statusCode ?? 500);
  if (status >= 400 && status < 500) return new OAuthError('invalid_request', error.message);
  request.log.error({ err: error }, 'unhandled error on an OAuth endpoint');
  return new OAuthError('server_error', 'An internal error occurred');
}

/** OpenID Connect discovery, the JWKS, and the token and revocation endpoints. */
export const oauthRoutes: FastifyPluginAsyncTypebox<{ services: Services; publicUrl: string | undefined }> = async (
  app,
  { services, publicUrl },
) => {
  const { oauth, store } = services;
  registerFormBody(app);
  app.setErrorHandler((error: FastifyError, request, reply) =>
    sendOAuthError(reply, oauthErrorFor(error, request, store.isUnavailableError(error))),
  );

  app.get(
    OAUTH_PATHS.discovery,
    {
      schema: {
        operationId: 'getOpenIdConfiguration',
        summary: 'OpenID Connect discovery document of this issuer',
        tags: ['OAuth'],
        response: { 200: DiscoverySchema },
      },
    },
    async (request) => {
      const issuer = requestOrigin(request, publicUrl);
      return {
        issuer,
        authorization_endpoint: `${issuer}${OAUTH_PATHS.authorize}`,
        token_endpoint: `${issuer}${OAUTH_PATHS.token}`,
        jwks_uri: `${issuer}${OAUTH_PATHS.jwks}`,
        revocation_endpoint: `${issuer}${OAUTH_PATHS.revoke}`,
        response_types_supported: ['code'],
        response_modes_supported: ['query'],
        grant_types_supported: ['authorization_code', 'client_credentials', 'refresh_token'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: [SIGNING_ALG],
        scopes_supported: [...SUPPORTED_SCOPES],
        claims_supported: ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'azp', 'email'],
        token_endpoint_auth_methods_supported: AUTH_METHODS,
        revocation_endpoint_auth_methods_supported: AUTH_METHODS,
        code_challenge_methods_supported: ['S256'],
        authorization_response_iss_parameter_supported: true,
      };
    },
  );

  app.get(
    OAUTH_PATHS.jwks,
    {
      schema: {
        operationId: 'getJwks',
        summary: 'Public keys that verify access tokens and ID tokens',
        tags: ['OAuth'],
        response: { 200: JwksSchema },
      },
    },
    async (_request, reply) => {
      // Short enough that a rotation reaches verifiers soon; they also refetch on an unknown kid.
      void reply.header('cache-control', 'public, max-age=60');
      return oauth.keys.jwks();
    },
  );

  app.post(
    OAUTH_PATHS.token,
    {
      schema: {
        operationId: 'createToken',
        summary: 'Token endpoint: client credentials, authorization code with PKCE, refresh token',
        description: `OAuth 2.0 token endpoint (RFC 6749 section 3.2). Clients authenticate with HTTP Basic
(client_secret_basic) or client_id and client_secret in the body (client_secret_post); public clients send only
client_id. Scopes: ${SCOPES.join(', ')}, plus openid and offline_access (or offline) for user tokens.`,
        tags: ['OAuth'],
        consumes: ['application/x-www-form-urlencoded'],
        body: TokenRequestSchema,
        response: { 200: TokenResponseSchema, 400: OAuthErrorRef, 401: OAuthErrorRef },
      },
    },
    async (request, reply) => {
      const response = await oauth.tokenEndpoint.token(
        formBodyOf(request),
        request.headers.authorization,
        requestOrigin(request, publicUrl),
      );
      void reply.headers(NO_STORE);
      return response;
    },
  );

  app.post(
    OAUTH_PATHS.revoke,
    {
      schema: {
        operationId: 'revokeToken',
        summary: 'Revokes a refresh token (and its family) or an access token (RFC 7009)',
        tags: ['OAuth'],
        consumes: ['application/x-www-form-urlencoded'],
        body: RevocationRequestSchema,
        response: {
          200: { type: 'null', description: 'Revoked, or the token was not valid anyway (RFC 7009 2.2).' },
          400: OAuthErrorRef,
          401: OAuthErrorRef,
        },
      },
    },
    async (request, reply) => {
      await oauth.tokenEndpoint.revoke(
        formBodyOf(request),
        request.headers.authorization,
        requestOrigin(request, publicUrl),
      );
      return reply.code(200).headers(NO_STORE).send();
    },
  );
};
