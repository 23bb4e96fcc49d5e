import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { CreateLocationBodySchema, LocationSchema, UpdateLocationBodySchema } from '../../contract/locations.js';
import { LOCATION_PAGE_SIZE } from '../../domain/locations/location-service.js';
import { parseLimit } from '../../domain/paging.js';
import type { Services } from '../../services.js';
import { setNextPage } from '../next-page.js';
import { AfterQuery, errorResponses, limitQuery, NextPageHeaders } from '../../contract/common.js';
import { OrganizationParams, organizationIdParam } from '../route-params.js';

const LocationParams = Type.Object({
  organizationId: organizationIdParam,
  locationId: Type.String({ description: 'Location ID' }),
});

export const locationRoutes: FastifyPluginAsyncTypebox<{
  services: Services;
  publicUrl: string | undefined;
}> = async (app, { services, publicUrl }) => {
  const { locations } = services;

  app.get(
    '/organizations/:organizationId/locations',
    {
      config: { scope: 'customers:read' },
      schema: {
        operationId: 'listLocations',
        summary: 'List locations',
        description: `List all or filtered locations for an organization, in creation order, paged by ${LOCATION_PAGE_SIZE}. Use X-Next-Page to retrieve the next page of results`,
        tags: ['Locations'],
        params: OrganizationParams,
        querystring: Type.Object({
          query: Type.Optional(
            Type.String({
              maxLength: 200,
              description: 'A string to search for in the locations name (case-insensitive).',
            }),
          ),
          after: AfterQuery,
          limit: limitQuery(LOCATION_PAGE_SIZE),
        }),
        response: {
          200: { ...Type.Array(Type.Ref(LocationSchema)), headers: Type.Object(NextPageHeaders) },
          ...errorResponses(400, 401, 403, 404, 503),
        },
      },
    },
    async (request, reply) => {
      const page = await locations.listLocations(request.params.organizationId, {
        query: request.query.query,
        after: request.query.after,
        limit: parseLimit(request.query.limit, LOCATION_PAGE_SIZE),
      });
      setNextPage(request, reply, page.next, publicUrl);
      return page.items;
    },
  );

  app.get(
    '/organizations/:organizationId/locations/:locationId',
    {
      config: { scope: 'customers:read' },
      schema: {
        operationId: 'getLocation',
        summary: 'Get a location',
        tags: ['Locations'],
        params: LocationParams,
        response: { 200: Type.Ref(LocationSchema), ...errorResponses(401, 403, 404, 503) },
      },
    },
    async (request) => locations.getLocation(request.params.organizationId, request.params.locationId),
  );

  app.post(
    '/organizations/:organizationId/locations',
    {
      config: { scope: 'customers:write' },
      schema: {
        operationId: 'createLocation',
        summary: 'Create a location (extension)',
        description: 'The slug defaults to one made from the name and must be unique in the organization (409).',
        tags: ['Locations'],
        'x-extension': true,
        params: OrganizationParams,
        body: CreateLocationBodySchema,
        response: { 201: Type.Ref(LocationSchema), ...errorResponses(400, 401, 403, 404, 409, 413, 415, 503) },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await locations.createLocation(request.params.organizationId, request.body)),
  );

  app.patch(
    '/organizations/:organizationId/locations/:locationId',
    {
      config: { scope: 'customers:write' },
      schema: {
        operationId: 'updateLocation',
        summary: 'Update a location (extension)',
        description: 'Changes the given fields; null removes an optional one.',
        tags: ['Locations'],
        'x-extension': true,
        params: LocationParams,
        body: UpdateLocationBodySchema,
        response: { 200: Type.Ref(LocationSchema), ...errorResponses(400, 401, 403, 404, 409, 413, 415, 503) },
      },
    },
    async (request) => locations.updateLocation(request.params.organizationId, request.params.locationId, request.body),
  );
};
