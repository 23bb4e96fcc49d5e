import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { EVENT_PAGE_SIZE } from '../../domain/events/event-service.js';
import { parseLimit } from '../../domain/paging.js';
import type { Services } from '../../services.js';
import { setNextPage } from '../next-page.js';
import { AfterQuery, errorResponses, limitQuery, NextPageHeaders, StringEnum } from '../../contract/common.js';
import { CUSTOMER_ID_PATTERN } from '../../contract/customer-fields.js';
import { EVENT_ORDERS, FeedEventSchema } from '../../contract/events.js';
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
          'then poll with afterSequence set to the last sequence seen: every change is seen once, in commit order. ' +
          "Extensions: customerId keeps the events about one customer (a customer's timeline), order=newest reads " +
          'the feed newest first.',
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
          customerId: Type.Optional(
            Type.String({
              pattern: CUSTOMER_ID_PATTERN,
              description:
                'Extension: only the events about this customer: customer.*, their points and payments, their list ' +
                'memberships. An erased customer keeps their events with the personal data removed, and the ' +
                'customer.deleted tombstone; an id no customer ever had gives an empty feed.',
              'x-extension': true,
            }),
          ),
          order: Type.Optional(
            StringEnum(EVENT_ORDERS, {
              description:
                'Extension: oldest first (the default) or newest first (a timeline: the latest events cheaply, ' +
                'older ones through X-Next-Page); not with afterSequence.',
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
      const { after, afterSequence, customerId, order, limit } = request.query;
      const page = await services.events.listEvents(request.params.organizationId, {
        after,
        afterSequence,
        customerId,
        order,
        limit: parseLimit(limit, EVENT_PAGE_SIZE),
      });
      setNextPage(request, reply, page.next, publicUrl);
      return page.items;
    },
  );
};
