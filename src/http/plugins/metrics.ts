import type { FastifyInstance } from 'fastify';
import type { ReadStats, ReplicaStatus } from '../../store/store.js';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** Prometheus counters and a latency histogram per route, kept in memory without dependencies. */
export function createMetrics() {
  const requests = new Map<string, number>();
  const durations = new Map<string, { buckets: number[]; sum: number; count: number }>();

  return {
    observe(method: string, route: string, status: number, seconds: number) {
      const key = `method="${method}",route="${route}",status="${status}"`;
      requests.set(key, (requests.get(key) ?? 0) + 1);
      const hKey = `method="${method}",route="${route}"`;
      let h = durations.get(hKey);
      if (!h) durations.set(hKey, (h = { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 }));
      for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) h.buckets[i]!++;
      h.sum += seconds;
      h.count++;
    },
    render(): string {
      const lines = [
        '# HELP http_requests_total HTTP requests by route and status.',
        '# TYPE http_requests_total counter',
      ];
      for (const [key, value] of requests) lines.push(`http_requests_total{${key}} ${value}`);
      lines.push(
        '# HELP http_request_duration_seconds HTTP request latency.',
        '# TYPE http_request_duration_seconds histogram',
      );
      for (const [key, h] of durations) {
        BUCKETS.forEach((le, i) =>
          lines.push(`http_request_duration_seconds_bucket{${key},le="${le}"} ${h.buckets[i]}`),
        );
        lines.push(`http_request_duration_seconds_bucket{${key},le="+Inf"} ${h.count}`);
        lines.push(`http_request_duration_seconds_sum{${key}} ${h.sum}`);
        lines.push(`http_request_duration_seconds_count{${key}} ${h.count}`);
      }
      const memory = process.memoryUsage();
      lines.push('# TYPE process_resident_memory_bytes gauge', `process_resident_memory_bytes ${memory.rss}`);
      lines.push('# TYPE nodejs_heap_used_bytes gauge', `nodejs_heap_used_bytes ${memory.heapUsed}`);
      return `${lines.join('\n')}\n`;
    },
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

/** Which backend served reads, and each replica's state and lag (nothing without replicas). */
export function renderDatabaseMetrics(replicas: readonly ReplicaStatus[], stats: ReadStats | undefined): string {
  if (!stats) return '';
  const lines = [
    '# HELP customers_api_db_read_requests_total Read requests by the database backend that served them.',
    '# TYPE customers_api_db_read_requests_total counter',
  ];
  for (const [backend, count] of stats.readsServed) {
    lines.push(`customers_api_db_read_requests_total{backend="${backend}"} ${count}`);
  }
  lines.push(
    '# HELP customers_api_db_consistency_waits_total Reads with a consistency token that had to wait for a replica, by outcome.',
    '# TYPE customers_api_db_consistency_waits_total counter',
    `customers_api_db_consistency_waits_total{outcome="replica"} ${stats.tokenWaitsServed}`,
    `customers_api_db_consistency_waits_total{outcome="primary"} ${stats.tokenWaitsFellBack}`,
    '# HELP customers_api_db_replica_up Whether the replica answers (1) or is skipped as down (0).',
    '# TYPE customers_api_db_replica_up gauge',
    ...replicas.map((r) => `customers_api_db_replica_up{replica="${r.name}"} ${r.state === 'down' ? 0 : 1}`),
    '# HELP customers_api_db_replica_lag_seconds How far the replica replay is behind the primary.',
    '# TYPE customers_api_db_replica_lag_seconds gauge',
    ...replicas
      .filter((r) => r.lagMs !== undefined)
      .map((r) => `customers_api_db_replica_lag_seconds{replica="${r.name}"} ${r.lagMs! / 1000}`),
  );
  return `${lines.join('\n')}\n`;
}

/** One log line per request (instead of Fastify's two), carrying the error instance when there is one. */
export function registerRequestLogging(app: FastifyInstance, metrics: Metrics) {
  app.addHook('onResponse', async (request, reply) => {
    const elapsed = reply.elapsedTime;
    metrics.observe(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, elapsed / 1000);
    const line = {
      method: request.method,
      url: request.url,
      status: reply.statusCode,
      ms: Math.round(elapsed * 100) / 100,
      ...(request.errorInstance ? { instance: request.errorInstance } : {}),
    };
    if (reply.statusCode >= 500) request.log.error(line, 'request failed');
    else request.log.info(line, 'request');
  });
}
