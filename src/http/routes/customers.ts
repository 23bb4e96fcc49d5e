import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CUSTOMER_PAGE_SIZE, MEMBERSHIP_PAGE_SIZE } from '../../domain/customers/customer-service.js';
import { parseLimit } from '../../domain/paging.js';
import type { Services } from '../../services.js';
import { setNextPage } from '../next-page.js';
import { AfterQuery, errorResponses, limitQuery, NextPageHeaders, StringEnum } from '../../contract/common.js';
import { GENDERS } from '../../contract/customer-fields.js';
import {
  CreateCustomerBodySchema,
  CustomerListTinySchema,
  CustomerSchema,
  CUSTOMER_SORTS,
  type Customer,
  UpdateCustomerBodySchema,
} from '../../contract/customers.js';
import { CustomerParams, OrganizationParams } from '../route-params.js';

/** What Fastify sends a serialized JSON body as. */
const JSON_TYPE = 'application/json; charset=utf-8';

const ETagHeaders = { ETag: Type.String({ description: 'Version of the customer, for If-Match' }) };
const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ description: 'Makes retries of this create safe (extension).' })),
});
const IfMatchHeaders = Type.Object({
  'if-match': Type.Optional(Type.String({ description: 'ETag(s) the update is conditional on, or *.' })),
});

const filterParam = (description: string, constraint: Record<string, unknown> = {}) =>
  Type.Optional(
    Type.String({ maxLength: 64, ...constraint, description: `Extension: ${description}`, 'x-extension': true }),
  );
const timeFilter = { format: 'date-time' };
const integerFilter = { pattern: '^-?[0-9]{1,15}$' };

/**
 * The filters of the customer list, combinable with each other, with q and with sort; `metadata.KEY=VALUE` (exact
 * value of a metadata key) is read from the query string too, for any key.
 */
const CUSTOMER_FILTER_QUERY = {
  hasAgreedToMarketing: filterParam('true or false: customers who have (or have not) agreed to marketing.', {
    enum: ['true', 'false'],
  }),
  createdAfter: filterParam('RFC 3339: customers whose createdAt (to the second, as shown) is later.', timeFilter),
  createdBefore: filterParam('RFC 3339: customers whose createdAt (to the second, as shown) is earlier.', timeFilter),
  updatedAfter: filterParam('RFC 3339: customers whose updatedAt (to the second, as shown) is later.', timeFilter),
  updatedBefore: filterParam('RFC 3339: customers whose updatedAt (to the second, as shown) is earlier.', timeFilter),
  pointsBalanceMin: filterParam('integer: statistics.pointsBalance at least this.', integerFilter),
  pointsBalanceMax: filterParam('integer: statistics.pointsBalance at most this.', integerFilter),
  totalSpendMin: filterParam('integer (cents): statistics.totalSpend at least this.', integerFilter),
  totalSpendMax: filterParam('integer (cents): statistics.totalSpend at most this.', integerFilter),
  gender: filterParam('MALE, FEMALE or OTHER.', { enum: [...GENDERS] }),
  listId: filterParam('members of this customer list.', { pattern: '^[0-9A-Za-z_-]{1,64}$' }),
};

export interface CustomerRoutesOptions {
  services: Services;
  publicUrl: string | undefined;
}

export const customerRoutes: FastifyPluginAsyncTypebox<CustomerRoutesOptions> = async (
  app,
  { services, publicUrl },
) => {
  const { customers } = services;

  app.get(
    '/organizations/:organizationId/customers/:customerId',
    {
      config: { scope: 'customers:read' },
      schema: {
        operationId: 'getCustomer',
        summary: 'Get a Customer',
        tags: ['Customers'],
        params: CustomerParams,
        response: {
          200: { ...Type.Ref(CustomerSchema), headers: Type.Object(ETagHeaders) },
          ...errorResponses(400, 401, 403, 404, 503),
        },
      },
    },
    async (request, reply) => {
      const { body, etag } = await customers.getCustomerJson(request.params.organizationId, request.params.customerId);
      // Text with a JSON content type is sent as it is: the row was written as the schema's JSON already.
      return reply
        .header('ETag', etag)
        .type(JSON_TYPE)
        .send(body as unknown as Customer);
    },
  );

  app.get(
    '/organizations/:organizationId/customers',
    {
      config: { scope: 'customers:read' },
      schema: {
        operationId: 'listCustomers',
        summary: 'List Customers',
        description: `List all customers for an organization. The result list is paged by ${CUSTOMER_PAGE_SIZE} results. Use X-Next-Page to retrieve the next page of results`,
        tags: ['Customers'],
        params: OrganizationParams,
        querystring: Type.Object({
          after: AfterQuery,
          sort: Type.Optional(StringEnum(CUSTOMER_SORTS, { description: 'How to sort the returned customer list.' })),
          email: Type.Optional(
            Type.String({
              format: 'email',
              maxLength: 254,
              description:
                'Give a valid email address to search all customers - this will find and return a list of customers with the exact email address given.',
            }),
          ),
          phoneNumber: Type.Optional(
            Type.String({
              maxLength: 32,
              description:
                'Give a valid phone number to search all customers. Note that we cannot guarantee unique key on phone numbers.',
            }),
          ),
          q: Type.Optional(
            Type.String({
              maxLength: 200,
              description:
                'Extension: partial search. Customers whose first name, last name, full name, email or phone number contain the text, ' +
                'case- and accent-insensitively (a phone fragment in any notation: `0411 222` finds +61411222333). At least 2 characters; ' +
                'a 2-character q finds a name word, email or phone number starting with it. Most relevant first (the exact email or ' +
                'phone number, then names starting with the text, then the rest; ties by id) unless sort is given.',
              'x-extension': true,
            }),
          ),
          ...CUSTOMER_FILTER_QUERY,
          limit: limitQuery(CUSTOMER_PAGE_SIZE),
        }),
        response: {
          200: { ...Type.Array(Type.Ref(CustomerSchema)), headers: Type.Object(NextPageHeaders) },
          ...errorResponses(400, 401, 403, 404, 503),
        },
      },
    },
    async (request, reply) => {
      const { after, sort, email, phoneNumber, q, limit } = request.query;
      const options = {
        after,
        sort,
        email,
        phoneNumber,
        q,
        filters: request.query as Record<string, unknown>,
        limit: parseLimit(limit, CUSTOMER_PAGE_SIZE),
      };
      // The plain listing (sync, pages of 1000) and the email / phone search come as JSON text written straight
      // from the rows, the same bytes as this route's serializer gives for the items (test/customer-page-bodies.test.ts).
      const prepared = await customers.listCustomerBodies(request.params.organizationId, options);
      if (prepared !== undefined) {
        setNextPage(request, reply, prepared.next, publicUrl);
        // Bytes with a content type are sent as they are (no second serialization).
        return reply.type(JSON_TYPE).send(prepared.body as unknown as Customer[]);
      }
      const page = await customers.listCustomers(request.params.organizationId, options);
      setNextPage(request, reply, page.next, publicUrl);
      return page.items;
    },
  );

  app.get(
    '/organizations/:organizationId/customers/:customerId/memberships',
    {
      config: { scope: 'customers:read' },
      schema: {
        operationId: 'listCustomerMemberships',
        summary: 'List memberships',
        description: `List all customer-lists that a customer is a member of. The result list is paged by ${MEMBERSHIP_PAGE_SIZE} results. Use X-Next-Page to retrieve the next page of results`,
        tags: ['Customers'],
        params: CustomerParams,
        querystring: Type.Object({ after: AfterQuery, limit: limitQuery(MEMBERSHIP_PAGE_SIZE) }),
        response: {
          200: { ...Type.Array(Type.Ref(CustomerListTinySchema)), headers: Type.Object(NextPageHeaders) },
          ...errorResponses(400, 401, 403, 404, 503),
        },
      },
    },
    async (request, reply) => {
      const { organizationId, customerId } = request.params;
      const page = await customers.listMemberships(organizationId, customerId, {
        after: request.query.after,
        limit: parseLimit(request.query.limit, MEMBERSHIP_PAGE_SIZE),
      });
      setNextPage(request, reply, page.next, publicUrl);
      return page.items;
    },
  );

  app.post(
    '/organizations/:organizationId/customers',
    {
      config: { scope: 'customers:write' },
      schema: {
        operationId: 'createCustomer',
        summary: 'Create a Customer (extension)',
        tags: ['Customers'],
        'x-extension': true,
        description:
          'With an Idempotency-Key header (1 to 255 visible ASCII characters, kept 24 hours), a retry with the same key ' +
          'and body returns the first response (with Idempotent-Replayed: true) and creates nothing; the same key with ' +
          'another body is a 409 conflict.',
        params: OrganizationParams,
        headers: IdempotencyHeaders,
        body: CreateCustomerBodySchema,
        response: {
          201: { ...Type.Ref(CustomerSchema), headers: Type.Object(ETagHeaders) },
          ...errorResponses(400, 401, 403, 404, 409, 413, 415, 503),
        },
      },
    },
    async (request, reply) => {
      const created = await customers.createCustomerWithETag(request.params.organizationId, request.body, {
        idempotencyKey: request.headers['idempotency-key'],
      });
      void reply.header('ETag', created.etag);
      if (created.replayed) void reply.header('Idempotent-Replayed', 'true');
      return reply.code(201).send(created.customer);
    },
  );

  app.patch(
    '/organizations/:organizationId/customers/:customerId',
    {
      config: { scope: 'customers:write' },
      schema: {
        operationId: 'updateCustomer',
        summary: 'Update a Customer (extension)',
        tags: ['Customers'],
        'x-extension': true,
        description:
          'With If-Match, the update applies only if the tag matches the current ETag (or is *); otherwise 412 and nothing changes.',
        params: CustomerParams,
        headers: IfMatchHeaders,
        body: UpdateCustomerBodySchema,
        response: {
          200: { ...Type.Ref(CustomerSchema), headers: Type.Object(ETagHeaders) },
          ...errorResponses(400, 401, 403, 404, 412, 413, 415, 503),
        },
      },
    },
    async (request, reply) => {
      const { customer, etag } = await customers.updateCustomerWithETag(
        request.params.organizationId,
        request.params.customerId,
        request.body,
        { ifMatch: request.headers['if-match'] },
      );
      void reply.header('ETag', etag);
      return customer;
    },
  );

  app.delete(
    '/organizations/:organizationId/customers/:customerId',
    {
      config: { scope: 'customers:write' },
      schema: {
        operationId: 'deleteCustomer',
        summary: 'Erase a Customer (extension)',
        description:
          'Deletes the customer and their personal data: ledgers, memberships and stored idempotent responses go, ' +
          'earlier events keep only the customer id, and a customer.deleted event is appended.',
        tags: ['Customers'],
        'x-extension': true,
        params: CustomerParams,
        response: { 204: Type.Null({ description: 'No content' }), ...errorResponses(401, 403, 404, 503) },
      },
    },
    async (request, reply) => {
      await customers.deleteCustomer(request.params.organizationId, request.params.customerId);
      return reply.code(204).send(null);
    },
  );
};
