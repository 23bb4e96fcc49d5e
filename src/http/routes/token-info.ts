import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { errorResponses } from '../../contract/common.js';
import { TokenInfoSchema, type TokenInfoBody } from '../../contract/token-info.js';
import { SCOPES } from '../../domain/auth/token-service.js';
import { requirePrincipal } from '../plugins/auth.js';

export const tokenInfoRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/token-info',
    {
      config: { scope: 'any' },
      schema: {
        operationId: 'getTokenInfo',
        summary: 'What the request’s token grants (extension)',
        description:
          'The organizations and scopes of the bearer token (a static API token or an OAuth access token), so a ' +
          'client can show only what the token may do instead of trying and reading 403s. Any valid token may ask, ' +
          'whatever its scopes; no token, or an unknown, revoked or expired one, is a 401.',
        tags: ['Organizations'],
        'x-extension': true,
        response: { 200: Type.Ref(TokenInfoSchema), ...errorResponses(401, 503) },
      },
    },
    async (request): Promise<TokenInfoBody> => {
      const principal = requirePrincipal(request);
      return {
        organizationIds: [...principal.organizationIds],
        scopes: SCOPES.filter((scope) => principal.scopes.has(scope)),
      };
    },
  );
};
