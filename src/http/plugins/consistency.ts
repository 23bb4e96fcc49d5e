import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { invalidField } from '../../errors.js';
import { isConsistencyToken, type Store } from '../../store/store.js';
import { AUTH_PLUGIN } from './auth.js';

export const CONSISTENCY_TOKEN_HEADER = 'x-consistency-token';

const isRead = (request: FastifyRequest) => request.method === 'GET' || request.method === 'HEAD';

/**
 * Read-your-writes with read replicas. An API read (a GET of a route that needs a scope) runs as the store's read
 * scope, so a replica serves it, one that has replayed the request's `X-Consistency-Token` when it carries one.
 * A successful write answers with the token of its commit (the primary's WAL position after it); a read served
 * from a known position answers with that position, so a client that sends back the latest token it saw never
 * reads older data than it already has.
 */
export const CONSISTENCY_PLUGIN = 'customers-api-consistency';

export const consistencyPlugin = fp<{ store: Store }>(
  async (app, { store }) => {
    // preHandler: after auth (onRequest), so token checks stay on the primary, as does everything a write does.
    app.addHook('preHandler', (request, _reply, done) => {
      if (!isRead(request) || request.routeOptions.config.scope === undefined) return done();
      const raw = request.headers[CONSISTENCY_TOKEN_HEADER];
      const token = typeof raw === 'string' ? raw.trim() : undefined;
      if (raw !== undefined && (token === undefined || !isConsistencyToken(token))) {
        return done(
          invalidField(
            CONSISTENCY_TOKEN_HEADER,
            'must be a consistency token from an earlier response, such as 0/16B3748',
          ),
        );
      }
      store.readScope(token, () => done());
    });

    // A callback hook: reads (most requests) settle it without a promise.
    app.addHook('onSend', (request, reply, payload, done) => {
      if (request.routeOptions.config.scope === undefined) return done(null, payload);
      if (isRead(request)) {
        const position = store.readServed()?.position;
        if (position !== undefined) void reply.header(CONSISTENCY_TOKEN_HEADER, position);
        return done(null, payload);
      }
      if (reply.statusCode >= 300) return done(null, payload);
      store.writePosition().then(
        (position) => {
          if (position !== undefined) void reply.header(CONSISTENCY_TOKEN_HEADER, position);
          done(null, payload);
        },
        (error: unknown) => {
          // The write is committed; without a token the client's next read may be served slightly stale.
          request.log.warn({ err: error }, 'could not read the commit position for the consistency token');
          done(null, payload);
        },
      );
    });
  },
  // After auth: token checks run in onRequest, before a read scope exists, so they stay on the primary.
  { name: CONSISTENCY_PLUGIN, fastify: '5.x', dependencies: [AUTH_PLUGIN] },
);
