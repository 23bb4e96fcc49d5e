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

/** Whether the request announces a body (HTTP/1.1 framing: a chunked transfer or a non-zero Content-Length). */
function hasBody(raw: IncomingMessage): boolean {
  const length = raw.headers['content-length'];
  return raw.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
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
    // A request without a body (most GETs) has nothing left to read, even when the answer is made before Node
    // marks the message complete: a rejection made synchronously inside the request event comes that early.
    if (raw.complete || raw.destroyed || !hasBody(raw)) return done(null, payload);
    void reply.header('connection', 'close');
    void discardBody(raw, DISCARD_LIMIT_BYTES, DISCARD_LIMIT_MS).then(() => done(null, payload));
  });
}
