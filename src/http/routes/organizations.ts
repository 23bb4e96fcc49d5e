import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ORGANIZATION_PAGE_SIZE } from '../../domain/organizations/organization-service.js';
import { parseLimit } from '../../domain/paging.js';
import type { Services } from '../../services.js';
import { requirePrincipal } from '../plugins/auth.js';
import { setNextPage } from '../next-page.js';
import { AfterQuery, errorResponses, limitQuery, NextPageHeaders } from '../../contract/common.js';
import { OrganizationSchema } from '../../contract/organizations.js';
import { OrganizationParams } from '../route-params.js';

export const organizationRoutes: FastifyPluginAsyncTypebox<{
  services: Services;
  publicUrl: string | undefined;
}> = async (app, { services, publicUrl }) => {
  app.get(
    '/organizations',
    {
      config: { scope: 'customers:read' },
      schema: {
        operationId: 'listOrganizations',
        summary: 'List the organizations this token grants',
        tags: ['Organizations'],
        description:
          'With `query`, only the organizations whose name contains it, compared case-insensitively (A to Z); paged like the whole list.',
        querystring: Type.Object({
          query: Type.Optional(
            Type.String({ maxLength: 200, description: 'Case-insensitive substring of the organization name.' }),
          ),
          after: AfterQuery,
          limit: limitQuery(ORGANIZATION_PAGE_SIZE),
        }),
        response: {
          200: { ...Type.Array(Type.Ref(OrganizationSchema)), headers: Type.Object(NextPageHeaders) },
          ...errorResponses(400, 401, 403, 503),
        },
      },
    },
    async (request, reply) => {
      const page = await services.organizations.listOrganizations(requirePrincipal(request).organizationIds, {
        after: request.query.after,
        limit: parseLimit(request.query.limit, ORGANIZATION_PAGE_SIZE),
        query: request.query.query,
      });
      setNextPage(request, reply, page.next, publicUrl);
      return page.items;
    },
  );

  app.get(
    '/organizations/:organizationId',
    {
      config: { scope: 'customers:read' },
      schema: {
        operationId: 'getOrganization',
        summary: 'Get an organization',
        tags: ['Organizations'],
        params: OrganizationParams,
        response: { 200: Type.Ref(OrganizationSchema), ...errorResponses(401, 403, 404, 503) },
      },
    },
    async (request) => services.organizations.getOrganization(request.params.organizationId),
  );
};
