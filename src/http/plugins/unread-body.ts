import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

/** How much of a refused request body is read and thrown away before answering, and for how long at most. */
export const DISCARD_LIMIT_BYTES = 8 * 1024 * 1024;
export const DISCARD_LIMIT_MS = 5000;

/**
 * Reads and discards what is left of a request body, up to `maxBytes` or `maxMs`; resolves once the client has
 * sent it all (or a bound is reached, or the connection fails).
 */
function discardBody(raw: IncomingMessage, maxBytes: number, maxMs: number): Promise<void> {
  return new Promise((resolve) => {
    let seen = 0;
    const finish = () => {
      clearTimeout(timer);
      raw.off('data', onData);
      raw.off('end', finish);
      raw.off('error', finish);
      raw.off('close', finish);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxBytes) finish();
    };
    const timer = setTimeout(finish, maxMs);
    raw.on('data', onData);
    raw.on('end', finish);
    raw.on('error', finish);
    raw.on('close', finish);
    raw.resume();
  });
}

/**
 * An answer given before the request body is all in (413 from its Content-Length, 401, 415, ...) waits until the
 * client has finished sending, within bounds, and then closes the connection. Answering at once and closing would
 * make the client's next write fail (EPIPE, or a reset that discards our answer before the client reads it).
 */
export function registerUnreadBodyDiscard(app: FastifyInstance): void {
  // A callback hook: a request read to its end (nearly all) passes without a promise.
  app.addHook('onSend', (request, reply, payload, done) => {
    const raw = request.raw;
    if (raw.complete || raw.destroyed) return done(null, payload);
    void reply.header('connection', 'close');
    void discardBody(raw, DISCARD_LIMIT_BYTES, DISCARD_LIMIT_MS).then(() => done(null, payload));
  });
}
