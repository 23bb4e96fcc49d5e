import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { Services } from '../../services.js';
import { AfterQuery, errorResponses, limitQuery, NextPageHeaders } from '../../contract/common.js';
import {
  PointsBodySchema,
  PointsEntrySchema,
  POINTS_PAGE_SIZE,
  ReferenceSchema,
  SpendBodySchema,
} from '../../contract/ledgers.js';
import { fractionalPointsError, isFractionalAmount } from '../../domain/ledgers/ledger-service.js';
import { parseLimit } from '../../domain/paging.js';
import { setNextPage } from '../next-page.js';
import { CustomerParams, organizationIdParam } from '../route-params.js';

const LedgerParams = Type.Object({
  organizationId: organizationIdParam,
  customerId: Type.String({ description: 'Customer ID' }),
  reference: ReferenceSchema,
});
const NoContent = Type.Null({ description: 'No content' });

export const ledgerRoutes: FastifyPluginAsyncTypebox<{ services: Services; publicUrl: string | undefined }> = async (
  app,
  { services, publicUrl },
) => {
  const { ledgers } = services;

  app.get(
    '/organizations/:organizationId/customers/:customerId/points',
    {
      config: { scope: 'customers:read' },
      schema: {
        operationId: 'listPoints',
        summary: "A customer's points history (extension)",
        description:
          `The customer's points adjustments, most recent first (ties by reference), paged by ${POINTS_PAGE_SIZE}. ` +
          'Each is the body it was recorded with (PUT .../points/{reference}) plus its reference and time; a ' +
          'reversed adjustment is gone from the history. Use X-Next-Page to retrieve the next page of results.',
        tags: ['Points'],
        'x-extension': true,
        params: CustomerParams,
        querystring: Type.Object({ after: AfterQuery, limit: limitQuery(POINTS_PAGE_SIZE) }),
        response: {
          200: { ...Type.Array(Type.Ref(PointsEntrySchema)), headers: Type.Object(NextPageHeaders) },
          ...errorResponses(400, 401, 403, 404, 503),
        },
      },
    },
    async (request, reply) => {
      const { organizationId, customerId } = request.params;
      const page = await ledgers.listPoints(organizationId, customerId, {
        after: request.query.after,
        limit: parseLimit(request.query.limit, POINTS_PAGE_SIZE),
      });
      setNextPage(request, reply, page.next, publicUrl);
      return page.items;
    },
  );

  app.put(
    '/organizations/:organizationId/customers/:customerId/points/:reference',
    {
      config: { scope: 'customers:write' },
      // Before schema validation, so a fractional amount gets the error that explains the rounding rule rather than
      // the generic "must be integer".
      preValidation: async (request) => {
        if (isFractionalAmount(request.body)) throw fractionalPointsError();
      },
      schema: {
        operationId: 'adjustPoints',
        summary: 'Add or redeem points',
        description:
          'Records a points adjustment under your reference; statistics change in the same transaction. ' +
          'amount is a whole number of points: LOKE integrations compute points as amount * pointsPerDollar, which ' +
          'can be fractional; round it yourself before sending. A fractional amount is a 400 naming the field ' +
          '(details[].field "amount") and stores nothing.',
        tags: ['Points'],
        params: LedgerParams,
        body: PointsBodySchema,
        response: { 204: NoContent, ...errorResponses(400, 401, 403, 404, 409, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const { organizationId, customerId, reference } = request.params;
      await ledgers.recordPoints(organizationId, customerId, reference, request.body);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/organizations/:organizationId/customers/:customerId/points/:reference',
    {
      config: { scope: 'customers:write' },
      schema: {
        operationId: 'reversePoints',
        summary: 'Reverse a points adjustment',
        tags: ['Points'],
        params: LedgerParams,
        response: { 204: NoContent, ...errorResponses(401, 403, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const { organizationId, customerId, reference } = request.params;
      await ledgers.reversePoints(organizationId, customerId, reference);
      return reply.code(204).send(null);
    },
  );

  app.put(
    '/organizations/:organizationId/customers/:customerId/spend/:reference',
    {
      config: { scope: 'customers:write' },
      schema: {
        operationId: 'recordSpend',
        summary: 'Record a spend (extension)',
        description: 'Feeds totalSpend and lastSpentAt; the same reference again is a 409 conflict.',
        tags: ['Spend'],
        'x-extension': true,
        params: LedgerParams,
        body: SpendBodySchema,
        response: { 204: NoContent, ...errorResponses(400, 401, 403, 404, 409, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const { organizationId, customerId, reference } = request.params;
      await ledgers.recordSpend(organizationId, customerId, reference, request.body);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/organizations/:organizationId/customers/:customerId/spend/:reference',
    {
      config: { scope: 'customers:write' },
      schema: {
        operationId: 'reverseSpend',
        summary: 'Reverse a spend (extension)',
        tags: ['Spend'],
        'x-extension': true,
        params: LedgerParams,
        response: { 204: NoContent, ...errorResponses(401, 403, 404, 503) },
      },
    },
    async (request, reply) => {
      const { organizationId, customerId, reference } = request.params;
      await ledgers.reverseSpend(organizationId, customerId, reference);
      return reply.code(204).send(null);
    },
  );
};
