import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { EVENT_PAGE_SIZE } from '../../domain/events/event-service.js';
import { parseLimit } from '../../domain/paging.js';
import type { Services } from '../../services.js';
import { setNextPage } from '../next-page.js';
import { AfterQuery, errorResponses, limitQuery, NextPageHeaders } from '../../contract/common.js';
import { FeedEventSchema } from '../../contract/events.js';
import { OrganizationParams } from '../route-params.js';

export const eventRoutes: FastifyPluginAsyncTypebox<{ services: Services; publicUrl: string | undefined }> = async (
  app,
  { services, publicUrl },
) => {
  app.get(
    '/organizations/:organizationId/events',
    {
      config: { scope: 'customers:read' },
      // The schema documents the items; serializing through it would move its declared keys (organization) ahead of
      // the payload's body. Items are the stored payload in LOKE's key order, so they are sent as built.
      serializerCompiler: () => (data) => JSON.stringify(data),
      schema: {
        operationId: 'listEvents',
        summary: 'The change feed (extension)',
        description:
          `Every change of the organization, oldest first, paged by ${EVENT_PAGE_SIZE}. Follow X-Next-Page to the end, ` +
          'then poll with afterSequence set to the last sequence seen: every change is seen once, in commit order.',
        tags: ['Events'],
        'x-extension': true,
        params: OrganizationParams,
        querystring: Type.Object({
          after: AfterQuery,
          afterSequence: Type.Optional(
            Type.String({
              pattern: '^[0-9]{1,16}$',
              description:
                'Extension: serve the events after this sequence number (0 for the start); ignored when after is given.',
            }),
          ),
          limit: limitQuery(EVENT_PAGE_SIZE),
        }),
        response: {
          200: { ...Type.Array(Type.Ref(FeedEventSchema)), headers: Type.Object(NextPageHeaders) },
          ...errorResponses(400, 401, 403, 404, 503),
        },
      },
    },
    async (request, reply) => {
      const { after, afterSequence, limit } = request.query;
      const page = await services.events.listEvents(request.params.organizationId, {
        after,
        afterSequence,
        limit: parseLimit(limit, EVENT_PAGE_SIZE),
      });
      setNextPage(request, reply, page.next, publicUrl);
      return page.items;
    },
  );
};
