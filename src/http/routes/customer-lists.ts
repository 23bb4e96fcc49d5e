import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CUSTOMER_LIST_PAGE_SIZE, LIST_MEMBER_PAGE_SIZE } from '../../domain/customer-lists/customer-list-service.js';
import { parseLimit } from '../../domain/paging.js';
import type { Services } from '../../services.js';
import { setNextPage } from '../next-page.js';
import { AfterQuery, errorResponses, limitQuery, NextPageHeaders } from '../../contract/common.js';
import { CustomerListBodySchema, CustomerListMemberSchema, CustomerListSchema } from '../../contract/customer-lists.js';
import { OrganizationParams, organizationIdParam } from '../route-params.js';

const ListParams = Type.Object({
  organizationId: organizationIdParam,
  listId: Type.String({ description: 'Customer list ID' }),
});
const MemberParams = Type.Object({
  organizationId: organizationIdParam,
  listId: Type.String({ description: 'Customer list ID' }),
  customerId: Type.String({ description: 'Customer ID' }),
});
const NoContent = Type.Null({ description: 'No content' });

export const customerListRoutes: FastifyPluginAsyncTypebox<{
  services: Services;
  publicUrl: string | undefined;
}> = async (app, { services, publicUrl }) => {
  const lists = services.customerLists;

  app.get(
    '/organizations/:organizationId/customer-lists',
    {
      config: { scope: 'customers:read' },
      schema: {
        operationId: 'listCustomerLists',
        summary: 'List customer lists',
        description: `The organization's customer lists in creation order, paged by ${CUSTOMER_LIST_PAGE_SIZE}. Use X-Next-Page to retrieve the next page of results`,
        tags: ['Customer lists'],
        params: OrganizationParams,
        querystring: Type.Object({ after: AfterQuery, limit: limitQuery(CUSTOMER_LIST_PAGE_SIZE) }),
        response: {
          200: { ...Type.Array(Type.Ref(CustomerListSchema)), headers: Type.Object(NextPageHeaders) },
          ...errorResponses(400, 401, 403, 404, 503),
        },
      },
    },
    async (request, reply) => {
      const page = await lists.listCustomerLists(request.params.organizationId, {
        after: request.query.after,
        limit: parseLimit(request.query.limit, CUSTOMER_LIST_PAGE_SIZE),
      });
      setNextPage(request, reply, page.next, publicUrl);
      return page.items;
    },
  );

  app.post(
    '/organizations/:organizationId/customer-lists',
    {
      config: { scope: 'customers:write' },
      schema: {
        operationId: 'createCustomerList',
        summary: 'Create a customer list',
        description:
          'Extension: with a `filter`, the list is a segment: its members are the customers matching the filter, kept exact in the transaction of every write. A new segment is filled in the background; its `status` is `building` until then, `ready` after.',
        tags: ['Customer lists'],
        params: OrganizationParams,
        body: CustomerListBodySchema,
        response: { 201: Type.Ref(CustomerListSchema), ...errorResponses(400, 401, 403, 404, 413, 415, 503) },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await lists.createCustomerList(request.params.organizationId, request.body)),
  );

  app.get(
    '/organizations/:organizationId/customer-lists/:listId',
    {
      config: { scope: 'customers:read' },
      schema: {
        operationId: 'getCustomerList',
        summary: 'Get a customer list',
        tags: ['Customer lists'],
        params: ListParams,
        response: { 200: Type.Ref(CustomerListSchema), ...errorResponses(401, 403, 404, 503) },
      },
    },
    async (request) => lists.getCustomerList(request.params.organizationId, request.params.listId),
  );

  app.put(
    '/organizations/:organizationId/customer-lists/:listId',
    {
      config: { scope: 'customers:write' },
      schema: {
        operationId: 'updateCustomerList',
        summary: 'Rename a customer list (or change the filter of a segment)',
        description:
          'Renames the list. Extension: on a segment, a `filter` replaces its filter and the segment is built again in the background (`status` is `building` until then); a manual list cannot take a filter (409).',
        tags: ['Customer lists'],
        params: ListParams,
        body: CustomerListBodySchema,
        response: { 200: Type.Ref(CustomerListSchema), ...errorResponses(400, 401, 403, 404, 409, 413, 415, 503) },
      },
    },
    async (request) => lists.renameCustomerList(request.params.organizationId, request.params.listId, request.body),
  );

  app.delete(
    '/organizations/:organizationId/customer-lists/:listId',
    {
      config: { scope: 'customers:write' },
      schema: {
        operationId: 'deleteCustomerList',
        summary: 'Delete a customer list and all of its memberships',
        tags: ['Customer lists'],
        params: ListParams,
        response: { 204: NoContent, ...errorResponses(401, 403, 404, 503) },
      },
    },
    async (request, reply) => {
      await lists.deleteCustomerList(request.params.organizationId, request.params.listId);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/organizations/:organizationId/customer-lists/:listId/members',
    {
      config: { scope: 'customers:read' },
      schema: {
        operationId: 'listCustomerListMembers',
        summary: 'List the members of a customer list',
        description: `Members by customer ID, paged by ${LIST_MEMBER_PAGE_SIZE}. Use X-Next-Page to retrieve the next page of results`,
        tags: ['Customer lists'],
        params: ListParams,
        querystring: Type.Object({ after: AfterQuery, limit: limitQuery(LIST_MEMBER_PAGE_SIZE) }),
        response: {
          200: { ...Type.Array(Type.Ref(CustomerListMemberSchema)), headers: Type.Object(NextPageHeaders) },
          ...errorResponses(400, 401, 403, 404, 503),
        },
      },
    },
    async (request, reply) => {
      const page = await lists.listMembers(request.params.organizationId, request.params.listId, {
        after: request.query.after,
        limit: parseLimit(request.query.limit, LIST_MEMBER_PAGE_SIZE),
      });
      setNextPage(request, reply, page.next, publicUrl);
      return page.items;
    },
  );

  app.put(
    '/organizations/:organizationId/customer-lists/:listId/members/:customerId',
    {
      config: { scope: 'customers:write' },
      schema: {
        operationId: 'addCustomerListMember',
        summary: "Add a customer to a list (idempotent); a segment's members follow its filter (409)",
        tags: ['Customer lists'],
        params: MemberParams,
        response: { 204: NoContent, ...errorResponses(401, 403, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const { organizationId, listId, customerId } = request.params;
      await lists.addMember(organizationId, listId, customerId);
      return reply.code(204).send(null);
    },
  );

  app.delete(
    '/organizations/:organizationId/customer-lists/:listId/members/:customerId',
    {
      config: { scope: 'customers:write' },
      schema: {
        operationId: 'removeCustomerListMember',
        summary: "Remove a customer from a list; a segment's members follow its filter (409)",
        tags: ['Customer lists'],
        params: MemberParams,
        response: { 204: NoContent, ...errorResponses(401, 403, 404, 409, 503) },
      },
    },
    async (request, reply) => {
      const { organizationId, listId, customerId } = request.params;
      await lists.removeMember(organizationId, listId, customerId);
      return reply.code(204).send(null);
    },
  );
};
