import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { unavailable } from '../../errors.js';
import type { Store } from '../../store/store.js';
import type { Metrics } from '../plugins/metrics.js';
import { errorResponses } from '../../contract/common.js';

export const healthRoutes: FastifyPluginAsyncTypebox<{ store: Store; metrics: Metrics }> = async (
  app,
  { store, metrics },
) => {
  app.get(
    '/healthz',
    {
      schema: {
        operationId: 'health',
        summary: 'Liveness: the process is up',
        tags: ['Operations'],
        'x-extension': true,
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'ready',
        summary: 'Readiness: the database answers',
        tags: ['Operations'],
        'x-extension': true,
        response: {
          200: Type.Object({ status: Type.Literal('ready'), database: Type.Literal('ok') }),
          ...errorResponses(503),
        },
      },
    },
    async (request) => {
      try {
        // Bounded, so a hung database makes readiness fail fast instead of hanging the probe.
        await store.ping(1000);
      } catch (error) {
        request.log.warn({ err: error }, 'readiness check failed');
        throw unavailable(`database not ready: ${(error as Error).message}`);
      }
      return { status: 'ready' as const, database: 'ok' as const };
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        operationId: 'metrics',
        summary: 'Prometheus metrics',
        tags: ['Operations'],
        'x-extension': true,
        produces: ['text/plain'],
        response: { 200: Type.String() },
      },
    },
    async (_request, reply) => reply.type('text/plain; version=0.0.4').send(await metrics.render()),
  );
};
