import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CUSTOMER_PAGE_SIZE, MEMBERSHIP_PAGE_SIZE } from '../../domain/customers/customer-service.js';
import { parseLimit } from '../../domain/paging.js';
import type { Services } from '../../services.js';
import { setNextPage } from '../next-page.js';
import { AfterQuery, errorResponses, limitQuery, NextPageHeaders, StringEnum } from '../schemas/common.js';
import {
  CreateCustomerBodySchema,
  CustomerListTinySchema,
  CustomerSchema,
  CUSTOMER_SORTS,
  UpdateCustomerBodySchema,
} from '../schemas/customers.js';

const OrganizationParams = Type.Object({
  organizationId: Type.String({ description: 'Organization ID' }),
});
const CustomerParams = Type.Object({
  organizationId: Type.String({ description: 'Organization ID' }),
  customerId: Type.String({ description: 'Customer ID' }),
});

export interface CustomerRoutesOptions {
  services: Services;
  publicUrl: string | undefined;
}

export const customerRoutes: FastifyPluginAsyncTypebox<CustomerRoutesOptions> = async (app, { services, publicUrl }) => {
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
        response: { 200: Type.Ref(CustomerSchema), ...errorResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => customers.getCustomer(request.params.organizationId, request.params.customerId),
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
          limit: limitQuery(CUSTOMER_PAGE_SIZE),
        }),
        response: {
          200: { ...Type.Array(Type.Ref(CustomerSchema)), headers: Type.Object(NextPageHeaders) },
          ...errorResponses(400, 401, 403, 404, 503),
        },
      },
    },
    async (request, reply) => {
      const { after, sort, email, phoneNumber, limit } = request.query;
      const page = await customers.listCustomers(request.params.organizationId, {
        after,
        sort,
        email,
        phoneNumber,
        limit: parseLimit(limit, CUSTOMER_PAGE_SIZE),
      });
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
        params: OrganizationParams,
        body: CreateCustomerBodySchema,
        response: { 201: Type.Ref(CustomerSchema), ...errorResponses(400, 401, 403, 404, 409, 413, 415, 503) },
      },
    },
    async (request, reply) => {
      const customer = await customers.createCustomer(request.params.organizationId, request.body);
      return reply.code(201).send(customer);
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
        params: CustomerParams,
        body: UpdateCustomerBodySchema,
        response: { 200: Type.Ref(CustomerSchema), ...errorResponses(400, 401, 403, 404, 412, 413, 415, 503) },
      },
    },
    async (request) => customers.updateCustomer(request.params.organizationId, request.params.customerId, request.body),
  );
};
