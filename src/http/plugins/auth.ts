import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { forbidden, notFound, unauthorized } from '../../errors.js';
import type { Principal, Scope, TokenService } from '../../domain/auth/token-service.js';
import { isJwtLike, type AccessTokens } from '../../domain/oauth/access-tokens.js';
import { requestOrigin } from '../next-page.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs; routes without one are public (health, docs). */
    scope?: Scope;
  }
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

// Room for a JWT access token granting many organizations.
const BEARER = /^Bearer\s+(\S{1,8192})\s*$/i;

export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthorized();
  return request.principal;
}

/**
 * Bearer-token auth as LOKE does it: no or bad token 401; an organization
 * the token does not grant 404, indistinguishable from a missing one; a
 * missing scope 403. The same for static tokens and for JWT access tokens
 * of our own issuer.
 */
export function registerAuth(
  app: FastifyInstance,
  tokens: TokenService,
  accessTokens: AccessTokens,
  publicUrl: string | undefined,
) {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request) => {
    const scope = request.routeOptions.config.scope;
    if (scope === undefined) return;
    const match = BEARER.exec(request.headers.authorization ?? '');
    if (!match) throw unauthorized();
    const token = match[1]!;
    const principal = isJwtLike(token)
      ? await accessTokens.authenticate(token, requestOrigin(request, publicUrl))
      : await tokens.authenticate(token);
    if (!principal) throw unauthorized('The bearer token is unknown or revoked');
    request.principal = principal;
    const organizationId = (request.params as { organizationId?: string }).organizationId;
    if (organizationId !== undefined && !principal.organizations.has(organizationId)) throw notFound('Organization');
    if (!principal.scopes.has(scope)) throw forbidden(scope);
  });
}

export const AUTH_PLUGIN = 'customers-api-auth';

/** registerAuth as a named plugin, so the plugins that need `request.principal` can declare it. */
export const authPlugin = fp<{ tokens: TokenService; accessTokens: AccessTokens; publicUrl: string | undefined }>(
  async (app, { tokens, accessTokens, publicUrl }) => registerAuth(app, tokens, accessTokens, publicUrl),
  { name: AUTH_PLUGIN, fastify: '5.x' },
);
