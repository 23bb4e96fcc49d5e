import type { FastifyBaseLogger } from 'fastify';
import pino from 'pino';
import type { Config } from '../config.js';

/** Lines are written once this much has collected, or at the latest after FLUSH_INTERVAL_MS. */
const BUFFER_BYTES = 4096;
const FLUSH_INTERVAL_MS = 200;

/**
 * The server's logger when none is given: pino writing to stdout through an asynchronous, buffered destination.
 * A synchronous write of every request line cost the get path a tenth of its CPU, and an asynchronous write per
 * line (no buffer) even more; here lines collect in memory and go out about 4 KiB at a time, at the latest 200 ms
 * after they were logged. The buffer is flushed synchronously when the process exits (a normal exit, SIGTERM/SIGINT
 * draining through `process.exit`, an uncaught error), so only a process killed outright (`kill -9`, the OOM
 * killer) can lose lines: the log lines of its last 200 ms at most, never data, since a write has committed
 * before its response (and its log line) exists.
 */
export function createServerLogger(level: Config['logLevel']): FastifyBaseLogger {
  const destination = pino.destination({ dest: 1, sync: false, minLength: BUFFER_BYTES });
  setInterval(() => destination.flush(), FLUSH_INTERVAL_MS).unref();
  // pino registers an exit flush of its own for such a destination, but not in worker threads or under coverage
  // tooling; this one costs nothing when the buffer is already empty.
  process.once('exit', () => {
    try {
      destination.flushSync();
    } catch {
      // stdout already closed, or pino's own exit flush ended the stream: nothing more can be written
    }
  });
  return pino({ level, serializers: { err: pino.stdSerializers.err } }, destination);
}
