import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { errorResponses } from '../../contract/common.js';
import { InsightsQuerySchema, InsightsSchema, MAX_INSIGHT_BUCKETS } from '../../contract/insights.js';
import type { Services } from '../../services.js';
import { OrganizationParams } from '../route-params.js';

export const insightRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/organizations/:organizationId/insights',
    {
      config: { scope: 'customers:read' },
      schema: {
        operationId: 'getInsights',
        summary: 'Overview figures for the console (extension)',
        description:
          "New customers, points earned and redeemed, and spend per day, ISO week or month in the organization's " +
          'time zone, over [from, to) widened to whole buckets; with the current marketing opt-in share and the ' +
          `largest customer lists. At most ${MAX_INSIGHT_BUCKETS} buckets; from must be before to (else 400).`,
        tags: ['Insights'],
        'x-extension': true,
        params: OrganizationParams,
        querystring: InsightsQuerySchema,
        response: { 200: Type.Ref(InsightsSchema), ...errorResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => services.insights.getInsights(request.params.organizationId, request.query),
  );
};
