import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { forbidden, notFound, unauthorized } from '../../errors.js';
import type { Principal, Scope, TokenService } from '../../domain/auth/token-service.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a route needs; routes without one are public (health, docs). */
    scope?: Scope;
  }
  interface FastifyRequest {
    principal: Principal | undefined;
  }
}

const BEARER = /^Bearer\s+(\S{1,512})\s*$/i;

export function requirePrincipal(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthorized();
  return request.principal;
}

/**
 * Bearer-token auth as LOKE does it: no or bad token 401; an organization
 * the token does not grant 404, indistinguishable from a missing one; a
 * missing scope 403.
 */
export function registerAuth(app: FastifyInstance, tokens: TokenService) {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request) => {
    const scope = request.routeOptions.config.scope;
    if (scope === undefined) return;
    const match = BEARER.exec(request.headers.authorization ?? '');
    if (!match) throw unauthorized();
    const principal = await tokens.authenticate(match[1]!);
    if (!principal) throw unauthorized('The bearer token is unknown or revoked');
    request.principal = principal;
    const organizationId = (request.params as { organizationId?: string }).organizationId;
    if (organizationId !== undefined && !principal.organizations.has(organizationId)) throw notFound('Organization');
    if (!principal.scopes.has(scope)) throw forbidden(scope);
  });
}

export const AUTH_PLUGIN = 'customers-api-auth';

/** registerAuth as a named plugin, so the plugins that need `request.principal` can declare it. */
export const authPlugin = fp<{ tokens: TokenService }>(async (app, { tokens }) => registerAuth(app, tokens), {
  name: AUTH_PLUGIN,
  fastify: '5.x',
});
