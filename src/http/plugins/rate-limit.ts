import rateLimit from '@fastify/rate-limit';
import fp from 'fastify-plugin';
import { rateLimited } from '../../errors.js';
import { AUTH_PLUGIN } from './auth.js';

export const RATE_LIMIT_PLUGIN = 'customers-api-rate-limit';

/** Buckets kept per process; past this the least recently used token's count is dropped, never everyone's. */
const MAX_TRACKED_TOKENS = 100_000;

/**
 * Per-token request budget: RATE_LIMIT_PER_MINUTE requests in each minute
 * window (0 turns it off). It counts in the onRequest hook right after
 * authentication, so requests that later fail body parsing or validation
 * spend the budget too. Public routes (no principal) are not limited. It
 * lives in each process's memory: with N processes behind a load balancer a
 * token gets up to N times the budget, which is the usual trade for not
 * adding a shared store on the hot path.
 */
export const rateLimitPlugin = fp<{ perMinute: number }>(
  async (app, { perMinute }) => {
    if (perMinute <= 0) return;
    await app.register(rateLimit, {
      global: true,
      hook: 'onRequest',
      max: perMinute,
      timeWindow: 60_000,
      cache: MAX_TRACKED_TOKENS,
      keyGenerator: (request) => request.principal?.tokenId ?? '',
      allowList: (request) => request.principal === undefined,
      addHeaders: { 'x-ratelimit-limit': true, 'x-ratelimit-remaining': true, 'x-ratelimit-reset': true },
      addHeadersOnExceeding: { 'x-ratelimit-limit': true, 'x-ratelimit-remaining': true, 'x-ratelimit-reset': true },
      errorResponseBuilder: (_request, context) => rateLimited(context.max, Math.max(1, Math.ceil(context.ttl / 1000))),
    });
  },
  { name: RATE_LIMIT_PLUGIN, fastify: '5.x', dependencies: [AUTH_PLUGIN] },
);
