import type { FastifyInstance } from 'fastify';
import { AppError } from '../../errors.js';

interface Bucket {
  tokens: number;
  updated: number;
}

const MAX_BUCKETS = 100_000;

/**
 * Per-token request budget (a token bucket refilled continuously). It lives
 * in each process's memory: with N processes behind a load balancer a token
 * gets up to N times the budget, which is the usual trade for not adding a
 * shared store on the hot path.
 */
export function registerRateLimit(app: FastifyInstance, perMinute: number) {
  if (perMinute <= 0) return;
  const refillPerMs = perMinute / 60_000;
  const buckets = new Map<string, Bucket>();

  // preHandler runs after the auth onRequest hook, so the principal is known.
  app.addHook('preHandler', async (request, reply) => {
    const principal = request.principal;
    if (!principal) return;
    const now = Date.now();
    let bucket = buckets.get(principal.tokenId);
    if (!bucket) {
      if (buckets.size >= MAX_BUCKETS) buckets.clear();
      bucket = { tokens: perMinute, updated: now };
      buckets.set(principal.tokenId, bucket);
    }
    bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.updated) * refillPerMs);
    bucket.updated = now;
    if (bucket.tokens < 1) {
      const retryAfter = Math.max(1, Math.ceil((1 - bucket.tokens) / refillPerMs / 1000));
      throw new AppError(
        'rate_limited',
        `Rate limit of ${perMinute} requests a minute exceeded; retry after ${retryAfter} s`,
        undefined,
        {
          'retry-after': String(retryAfter),
        },
      );
    }
    bucket.tokens -= 1;
    void reply.header('x-ratelimit-remaining', String(Math.floor(bucket.tokens)));
  });
}
