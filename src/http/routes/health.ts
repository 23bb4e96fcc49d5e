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
        summary: 'Readiness: the primary database answers; replicas are reported one by one',
        description:
          'Ready (200) while the primary answers. A read replica that is down or lags makes the process `degraded` ' +
          '(still 200: its reads go to the other replicas or the primary); without the primary it is not ready (503).',
        tags: ['Operations'],
        'x-extension': true,
        response: {
          200: Type.Object({
            status: Type.Union([Type.Literal('ready'), Type.Literal('degraded')]),
            database: Type.Literal('ok'),
            primary: Type.Object({ state: Type.Literal('ok') }),
            replicas: Type.Array(
              Type.Object({
                name: Type.String({ description: 'replica-1, replica-2, ... in the order of DATABASE_REPLICA_URLS' }),
                state: Type.Union([Type.Literal('ok'), Type.Literal('lagging'), Type.Literal('down')]),
                lagMs: Type.Optional(Type.Integer({ minimum: 0 })),
                replayPosition: Type.Optional(Type.String()),
              }),
            ),
          }),
          ...errorResponses(503),
        },
      },
    },
    async (request) => {
      let replicas: Awaited<ReturnType<Store['replicaStatuses']>>;
      try {
        // Bounded, so a hung database makes readiness fail fast instead of hanging the probe.
        [, replicas] = await Promise.all([store.ping(1000), store.replicaStatuses(1000)]);
      } catch (error) {
        request.log.warn({ err: error }, 'readiness check failed');
        throw unavailable(`database not ready: ${(error as Error).message}`);
      }
      for (const replica of replicas) {
        if (replica.state !== 'ok') request.log.warn({ replica: replica.name, error: replica.error }, 'replica not ok');
      }
      return {
        status: replicas.every((r) => r.state === 'ok') ? ('ready' as const) : ('degraded' as const),
        database: 'ok' as const,
        primary: { state: 'ok' as const },
        // Names and states only: this endpoint is public, the URLs and errors are in the log.
        replicas: replicas.map(({ name, state, lagMs, replayPosition }) => ({
          name,
          state,
          ...(lagMs === undefined ? {} : { lagMs: Math.round(lagMs) }),
          ...(replayPosition === undefined ? {} : { replayPosition }),
        })),
      };
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
