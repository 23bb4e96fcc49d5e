import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { DELIVERY_PAGE_SIZE, WEBHOOK_PAGE_SIZE } from '../../domain/webhooks/webhook-service.js';
import { parseLimit } from '../../domain/paging.js';
import type { Services } from '../../services.js';
import { setNextPage } from '../next-page.js';
import { AfterQuery, errorResponses, limitQuery, NextPageHeaders } from '../../contract/common.js';
import {
  PutWebhookBodySchema,
  WebhookDeliverySchema,
  WebhookRefSchema,
  WebhookReplaySchema,
  WebhookSchema,
} from '../../contract/webhooks.js';
import { OrganizationParams, organizationIdParam } from '../route-params.js';

const WebhookParams = Type.Object({
  organizationId: organizationIdParam,
  ref: WebhookRefSchema,
});
const DeliveryParams = Type.Object({
  organizationId: organizationIdParam,
  ref: WebhookRefSchema,
  deliveryId: Type.String({ minLength: 1, maxLength: 64, description: 'ID of a delivery attempt' }),
});

export const webhookRoutes: FastifyPluginAsyncTypebox<{ services: Services; publicUrl: string | undefined }> = async (
  app,
  { services, publicUrl },
) => {
  const { webhooks } = services;

  app.put(
    '/organizations/:organizationId/webhooks/:ref',
    {
      config: { scope: 'webhooks:manage' },
      schema: {
        operationId: 'putWebhook',
        summary: 'Create or replace a webhook subscription',
        description:
          'Creates the subscription named ref (201) or replaces it (200). A new subscription receives the events written ' +
          'after it; a replaced one continues where it was, with the new URL, secret and events. Each event is POSTed as ' +
          'JSON with X-Event-Signature: sha256=<hex HMAC-SHA256 of the raw body keyed by the secret>, X-Event-Id, ' +
          'X-Event-Sequence and X-Event-Timestamp (unix seconds; reject old ones, and drop duplicates by X-Event-Id). ' +
          'The body is {event, ...body, organization: {id, name}}. As LOKE does, a delivery fails only when the ' +
          'receiver gives no response (connection error, timeout) or answers with a status >= 500; only those are ' +
          'retried, up to 5 attempts by default, after 10 s, 20 s, 40 s, ... (WEBHOOK_MAX_ATTEMPTS, ' +
          'WEBHOOK_RETRY_BASE_MS). A 2xx, 3xx or 4xx answer ends the delivery: a 3xx or 4xx is recorded as rejected ' +
          'with its status (see the deliveries), is not retried, and the subscription moves on to the next event.',
        tags: ['Webhooks'],
        params: WebhookParams,
        body: PutWebhookBodySchema,
        response: {
          200: Type.Ref(WebhookSchema),
          201: Type.Ref(WebhookSchema),
          ...errorResponses(400, 401, 403, 404, 413, 415, 503),
        },
      },
    },
    async (request, reply) => {
      const { created, webhook } = await webhooks.putWebhook(
        request.params.organizationId,
        request.params.ref,
        request.body,
      );
      return reply.code(created ? 201 : 200).send(webhook);
    },
  );

  app.get(
    '/organizations/:organizationId/webhooks',
    {
      config: { scope: 'webhooks:manage' },
      schema: {
        operationId: 'listWebhooks',
        summary: 'List webhook subscriptions',
        description: `Subscriptions by ref, paged by ${WEBHOOK_PAGE_SIZE}; secrets are never returned. Use X-Next-Page to retrieve the next page.`,
        tags: ['Webhooks'],
        params: OrganizationParams,
        querystring: Type.Object({ after: AfterQuery, limit: limitQuery(WEBHOOK_PAGE_SIZE) }),
        response: {
          200: { ...Type.Array(Type.Ref(WebhookSchema)), headers: Type.Object(NextPageHeaders) },
          ...errorResponses(400, 401, 403, 404, 503),
        },
      },
    },
    async (request, reply) => {
      const page = await webhooks.listWebhooks(request.params.organizationId, {
        after: request.query.after,
        limit: parseLimit(request.query.limit, WEBHOOK_PAGE_SIZE),
      });
      setNextPage(request, reply, page.next, publicUrl);
      return page.items;
    },
  );

  app.delete(
    '/organizations/:organizationId/webhooks/:ref',
    {
      config: { scope: 'webhooks:manage' },
      schema: {
        operationId: 'deleteWebhook',
        summary: 'Delete a webhook subscription',
        description: 'Stops deliveries and removes the delivery history.',
        tags: ['Webhooks'],
        params: WebhookParams,
        response: { 204: Type.Null({ description: 'Deleted' }), ...errorResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request, reply) => {
      await webhooks.deleteWebhook(request.params.organizationId, request.params.ref);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/organizations/:organizationId/webhooks/:ref/deliveries',
    {
      config: { scope: 'webhooks:manage' },
      schema: {
        operationId: 'listWebhookDeliveries',
        summary: 'Delivery attempts of a subscription (extension)',
        description: `Every attempt, most recent first, paged by ${DELIVERY_PAGE_SIZE}.`,
        tags: ['Webhooks'],
        'x-extension': true,
        params: WebhookParams,
        querystring: Type.Object({ after: AfterQuery, limit: limitQuery(DELIVERY_PAGE_SIZE) }),
        response: {
          200: { ...Type.Array(Type.Ref(WebhookDeliverySchema)), headers: Type.Object(NextPageHeaders) },
          ...errorResponses(400, 401, 403, 404, 503),
        },
      },
    },
    async (request, reply) => {
      const page = await webhooks.listDeliveries(request.params.organizationId, request.params.ref, {
        after: request.query.after,
        limit: parseLimit(request.query.limit, DELIVERY_PAGE_SIZE),
      });
      setNextPage(request, reply, page.next, publicUrl);
      return page.items;
    },
  );

  app.post(
    '/organizations/:organizationId/webhooks/:ref/deliveries/:deliveryId/retry',
    {
      config: { scope: 'webhooks:manage' },
      schema: {
        operationId: 'retryWebhookDelivery',
        summary: 'Redeliver the event of an attempt (extension)',
        description:
          'Queues one more delivery of the event (202), with the usual retries; it goes out beside the ordered stream. ' +
          'Works for any settled attempt: succeeded, rejected (3xx/4xx) or failed. ' +
          '409 while the stream is still retrying that event.',
        tags: ['Webhooks'],
        'x-extension': true,
        params: DeliveryParams,
        response: { 202: WebhookReplaySchema, ...errorResponses(400, 401, 403, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const { organizationId, ref, deliveryId } = request.params;
      return reply.code(202).send(await webhooks.retryDelivery(organizationId, ref, deliveryId));
    },
  );
};
