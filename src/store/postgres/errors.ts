import type { Store } from '../store.js';

// Connection-level failures: refused, reset, DNS, timeouts, the server going away (class 08, 57P0x),
// too many connections (53300), and statements cancelled by statement_timeout (57014).
const UNAVAILABLE_NODE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'EAI_AGAIN',
]);
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '57014']);

export function isUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (UNAVAILABLE_NODE_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code) || code.startsWith('08')) return true;
  }
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|connection timeout|Query read timeout|not queryable|connection has been discarded/i.test(
    error.message,
  );
}

/** SQLSTATEs and node-postgres's connection errors, sorted into the store's two questions. */
export const postgresErrors: Pick<Store, 'isUnavailableError' | 'isUniqueViolation'> = {
  isUnavailableError: isUnavailable,
  isUniqueViolation(error) {
    return (error as { code?: unknown } | null)?.code === '23505';
  },
};
