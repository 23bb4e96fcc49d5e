import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { forbidden, notFound, unauthorized } from '../../errors.js';
import type { Principal, Scope, TokenService } from '../../domain/auth/token-service.js';
import { isJwtLike, type AccessTokens } from '../../domain/oauth/access-tokens.js';
import { requestOrigin } from '../next-page.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The scope a route needs; `any` for a route any valid token may call (token info); routes without one are
     * public (health, docs).
     */
    scope?: Scope | 'any';
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
  const admit = (request: FastifyRequest, scope: Scope | 'any', principal: Principal | null): Error | undefined => {
    if (!principal) return unauthorized('The bearer token is unknown or revoked');
    request.principal = principal;
    const organizationId = (request.params as { organizationId?: string }).organizationId;
    if (organizationId !== undefined && !principal.organizations.has(organizationId)) return notFound('Organization');
    if (scope !== 'any' && !principal.scopes.has(scope)) return forbidden(scope);
    return undefined;
  };
  // A callback hook, so that a static token the cache holds (nearly every request) costs no promise.
  app.addHook('onRequest', (request, _reply, done) => {
    const scope = request.routeOptions.config.scope;
    if (scope === undefined) return done();
    const match = BEARER.exec(request.headers.authorization ?? '');
    if (!match) return done(unauthorized());
    const token = match[1]!;
    const jwt = isJwtLike(token);
    const cached = jwt ? undefined : tokens.cachedPrincipal(token);
    if (cached !== undefined) return done(admit(request, scope, cached));
    const principal = jwt
      ? accessTokens.authenticate(token, requestOrigin(request, publicUrl))
      : tokens.authenticate(token);
    principal.then(
      (found) => done(admit(request, scope, found)),
      (error: unknown) => done(error as Error),
    );
  });
}

export const AUTH_PLUGIN = 'customers-api-auth';

/** registerAuth as a named plugin, so the plugins that need `request.principal` can declare it. */
export const authPlugin = fp<{ tokens: TokenService; accessTokens: AccessTokens; publicUrl: string | undefined }>(
  async (app, { tokens, accessTokens, publicUrl }) => registerAuth(app, tokens, accessTokens, publicUrl),
  { name: AUTH_PLUGIN, fastify: '5.x' },
);
