import cluster from 'node:cluster';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { AggregatorRegistry, Counter, Gauge, Registry } from 'prom-client';
import type { Store } from '../../store/store.js';
import { createRequestSeries } from './request-series.js';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** What the webhook dispatcher reports after each delivery attempt. */
export interface WebhookAttempt {
  subscriptionId: string;
  /** The receiver answered 2xx. */
  ok: boolean;
  /** The receiver answered 3xx or 4xx: the delivery ended without a retry (not a failure). */
  rejected: boolean;
  /** Seconds from the event's commit to this attempt. */
  lagSeconds: number;
}

/**
 * The process's Prometheus metrics (prom-client), one registry per server so
 * tests can run several in one process. Under `serve --workers N` every
 * worker's registry is merged by the cluster primary on each scrape.
 */
export function createMetrics(store: Store) {
  const registry = new Registry();
  const requests = createRequestSeries(registry, BUCKETS);
  new Gauge({
    name: 'process_resident_memory_bytes',
    help: 'Resident memory of the server processes.',
    registers: [registry],
    collect() {
      this.set(process.memoryUsage().rss);
    },
  });
  new Gauge({
    name: 'nodejs_heap_used_bytes',
    help: 'V8 heap in use.',
    registers: [registry],
    collect() {
      this.set(process.memoryUsage().heapUsed);
    },
  });
  // Read replicas (nothing without them): which backend served reads, each replica's state and lag.
  new Counter({
    name: 'customers_api_db_read_requests_total',
    help: 'Read requests by the database backend that served them.',
    labelNames: ['backend'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [backend, count] of store.readStats()?.readsServed ?? []) this.inc({ backend }, count);
    },
  });
  new Counter({
    name: 'customers_api_db_consistency_waits_total',
    help: 'Reads with a consistency token that had to wait for a replica, by outcome (replica or primary).',
    labelNames: ['outcome'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const stats = store.readStats();
      if (!stats) return;
      this.inc({ outcome: 'replica' }, stats.tokenWaitsServed);
      this.inc({ outcome: 'primary' }, stats.tokenWaitsFellBack);
    },
  });
  new Gauge({
    name: 'customers_api_db_replica_up',
    help: 'Whether the replica answers (1) or is skipped as down (0).',
    labelNames: ['replica'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const r of await store.replicaStatuses()) this.set({ replica: r.name }, r.state === 'down' ? 0 : 1);
    },
  });
  new Gauge({
    name: 'customers_api_db_replica_lag_seconds',
    help: 'How far the replica replay is behind the primary.',
    labelNames: ['replica'] as const,
    registers: [registry],
    aggregator: 'max',
    async collect() {
      this.reset();
      for (const r of await store.replicaStatuses())
        if (r.lagMs !== undefined) this.set({ replica: r.name }, r.lagMs / 1000);
    },
  });
  const attempts = new Counter({
    name: 'webhook_delivery_attempts_total',
    help: 'Webhook delivery attempts by subscription.',
    labelNames: ['subscription'] as const,
    registers: [registry],
  });
  const failures = new Counter({
    name: 'webhook_delivery_failures_total',
    help: 'Webhook delivery attempts that failed (no response or a status >= 500; these are retried), by subscription.',
    labelNames: ['subscription'] as const,
    registers: [registry],
  });
  const rejections = new Counter({
    name: 'webhook_delivery_rejections_total',
    help: 'Webhook deliveries the receiver rejected with a 3xx or 4xx (not retried), by subscription.',
    labelNames: ['subscription'] as const,
    registers: [registry],
  });
  const lag = new Gauge({
    name: 'webhook_delivery_lag_seconds',
    help: "Age of the event at the subscription's latest delivery attempt.",
    labelNames: ['subscription'] as const,
    registers: [registry],
    // One process holds a subscription's lease at a time; across workers the latest figure is the largest one.
    aggregator: 'max',
  });
  new Gauge({
    name: 'db_pool_connections',
    help: 'Database connections of the server processes: total open, idle, and requests waiting for one.',
    labelNames: ['state'] as const,
    registers: [registry],
    collect() {
      const stats = store.poolStats();
      this.set({ state: 'total' }, stats.total);
      this.set({ state: 'idle' }, stats.idle);
      this.set({ state: 'waiting' }, stats.waiting);
    },
  });
  if (store.kind === 'sqlite')
    new Gauge({
      name: 'db_sqlite_wal_bytes',
      help: 'Size of the SQLite write-ahead log (checkpoints shrink it).',
      registers: [registry],
      aggregator: 'max',
      collect() {
        this.set(store.poolStats().walBytes ?? 0);
      },
    });

  return {
    registry,
    observe: requests.observe,
    webhookAttempt(attempt: WebhookAttempt) {
      attempts.inc({ subscription: attempt.subscriptionId });
      if (attempt.rejected) rejections.inc({ subscription: attempt.subscriptionId });
      else if (!attempt.ok) failures.inc({ subscription: attempt.subscriptionId });
      lag.set({ subscription: attempt.subscriptionId }, attempt.lagSeconds);
    },
    /** This process's figures, or under a cluster the whole cluster's (the primary merges every worker's). */
    async render(): Promise<string> {
      return cluster.isWorker ? clusterMetrics() : registry.metrics();
    },
  };
}
export type Metrics = ReturnType<typeof createMetrics>;

const METRICS_REQUEST = 'customers-api:metrics-request';
const METRICS_RESPONSE = 'customers-api:metrics-response';
let workerRegistries: Registry[] | undefined;
let requestCounter = 0;

/** In a cluster worker: answer the primary's AggregatorRegistry with this registry. */
function joinCluster(registry: Registry) {
  if (!cluster.isWorker) return;
  if (workerRegistries === undefined) {
    // Constructing one installs prom-client's worker-side listener for the primary's requests.
    new AggregatorRegistry();
    workerRegistries = [];
  }
  workerRegistries.push(registry);
  AggregatorRegistry.setRegistries(workerRegistries);
}

function leaveCluster(registry: Registry) {
  if (workerRegistries === undefined) return;
  workerRegistries = workerRegistries.filter((r) => r !== registry);
  AggregatorRegistry.setRegistries(workerRegistries);
}

interface MetricsMessage {
  type?: unknown;
  id?: unknown;
  text?: unknown;
  error?: unknown;
}

/** Asks the primary for the merged figures of every worker (this one included). */
function clusterMetrics(): Promise<string> {
  const id = `${process.pid}:${++requestCounter}`;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(new Error('the cluster primary did not answer the metrics request')), 10_000);
    const onMessage = (message: MetricsMessage) => {
      if (message?.type !== METRICS_RESPONSE || message.id !== id) return;
      if (typeof message.text === 'string') finish(undefined, message.text);
      else finish(new Error(typeof message.error === 'string' ? message.error : 'metrics aggregation failed'));
    };
    function finish(error: Error | undefined, text?: string) {
      clearTimeout(timer);
      process.off('message', onMessage);
      if (error) reject(error);
      else resolve(text!);
    }
    process.on('message', onMessage);
    process.send!({ type: METRICS_REQUEST, id });
  });
}

/** In the cluster primary: merges the workers' registries whenever one of them is scraped. */
export function serveClusterMetrics() {
  const aggregator = new AggregatorRegistry();
  cluster.on('message', (worker, message: MetricsMessage) => {
    if (message?.type !== METRICS_REQUEST) return;
    aggregator.clusterMetrics().then(
      (text) => worker.send({ type: METRICS_RESPONSE, id: message.id, text }),
      (error: Error) => worker.send({ type: METRICS_RESPONSE, id: message.id, error: error.message }),
    );
  });
}

/** One log line per request (instead of Fastify's two), carrying the error instance when there is one. */
export function registerRequestLogging(app: FastifyInstance, metrics: Metrics) {
  app.addHook('onResponse', (request, reply, done) => {
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
    done();
  });
}

export const METRICS_PLUGIN = 'customers-api-metrics';

/** Request metrics and the request log line; under a cluster, this worker's registry joins the primary's merge. */
export const metricsPlugin = fp<{ metrics: Metrics }>(
  async (app, { metrics }) => {
    joinCluster(metrics.registry);
    app.addHook('onClose', async () => leaveCluster(metrics.registry));
    registerRequestLogging(app, metrics);
  },
  { name: METRICS_PLUGIN, fastify: '5.x' },
);
