import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { AfterQuery, errorResponses, limitQuery, NextPageHeaders } from '../../contract/common.js';
import {
  PAYMENT_PAGE_SIZE,
  PaymentIdSchema,
  PaymentListQuerySchema,
  PaymentSchema,
  RecordPaymentBodySchema,
  RefundPaymentBodySchema,
} from '../../contract/payments.js';
import { parseLimit } from '../../domain/paging.js';
import type { Services } from '../../services.js';
import { setNextPage } from '../next-page.js';
import { OrganizationParams, organizationIdParam } from '../route-params.js';

const PaymentParams = Type.Object({
  organizationId: organizationIdParam,
  paymentId: PaymentIdSchema,
});

export const paymentRoutes: FastifyPluginAsyncTypebox<{
  services: Services;
  publicUrl: string | undefined;
}> = async (app, { services, publicUrl }) => {
  const { payments } = services;

  app.get(
    '/organizations/:organizationId/payments',
    {
      config: { scope: 'customers:read' },
      schema: {
        operationId: 'listPayments',
        summary: 'List payments',
        description: `List payments, most recent first, paged by ${PAYMENT_PAGE_SIZE}. Use X-Next-Page to retrieve the next page of results`,
        tags: ['Payments'],
        params: OrganizationParams,
        querystring: Type.Composite([
          PaymentListQuerySchema,
          Type.Object({ after: AfterQuery, limit: limitQuery(PAYMENT_PAGE_SIZE) }),
        ]),
        response: {
          200: { ...Type.Array(Type.Ref(PaymentSchema)), headers: Type.Object(NextPageHeaders) },
          ...errorResponses(400, 401, 403, 404, 503),
        },
      },
    },
    async (request, reply) => {
      const page = await payments.listPayments(request.params.organizationId, {
        sort: request.query.sort,
        locationId: request.query.locationId,
        customerId: request.query.customerId,
        after: request.query.after,
        limit: parseLimit(request.query.limit, PAYMENT_PAGE_SIZE),
      });
      setNextPage(request, reply, page.next, publicUrl);
      return page.items;
    },
  );

  app.get(
    '/organizations/:organizationId/payments/:paymentId',
    {
      config: { scope: 'customers:read' },
      schema: {
        operationId: 'getPayment',
        summary: 'Get a payment (extension)',
        tags: ['Payments'],
        'x-extension': true,
        params: PaymentParams,
        response: { 200: Type.Ref(PaymentSchema), ...errorResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => payments.getPayment(request.params.organizationId, request.params.paymentId),
  );

  app.put(
    '/organizations/:organizationId/payments/:paymentId',
    {
      config: { scope: 'customers:write' },
      schema: {
        operationId: 'recordPayment',
        summary: 'Record a completed payment (extension)',
        description:
          "Records a completed payment under your id (201). The same body again changes nothing (200); another body for a recorded payment is a 409. The customer's totalSpend and lastSpentAt change in the same transaction.",
        tags: ['Payments'],
        'x-extension': true,
        params: PaymentParams,
        body: RecordPaymentBodySchema,
        response: {
          200: Type.Ref(PaymentSchema),
          201: Type.Ref(PaymentSchema),
          ...errorResponses(400, 401, 403, 404, 409, 413, 415, 503),
        },
      },
    },
    async (request, reply) => {
      const { organizationId, paymentId } = request.params;
      const recorded = await payments.recordPayment(organizationId, paymentId, request.body);
      return reply.code(recorded.created ? 201 : 200).send(recorded.payment);
    },
  );

  app.post(
    '/organizations/:organizationId/payments/:paymentId/refund',
    {
      config: { scope: 'customers:write' },
      // No body at all means the defaults, like `{}`.
      preValidation: async (request) => {
        request.body ??= {};
      },
      schema: {
        operationId: 'refundPayment',
        summary: 'Refund a payment (extension)',
        description:
          'Refunds `amount` cents, by default all that remains of chargedAmount + externalAmount; more than remains is a 400, nothing left a 409.',
        tags: ['Payments'],
        'x-extension': true,
        params: PaymentParams,
        body: RefundPaymentBodySchema,
        response: { 200: Type.Ref(PaymentSchema), ...errorResponses(400, 401, 403, 404, 409, 413, 415, 503) },
      },
    },
    async (request) => payments.refundPayment(request.params.organizationId, request.params.paymentId, request.body),
  );
};
