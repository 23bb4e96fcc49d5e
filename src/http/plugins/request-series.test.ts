import { AggregatorRegistry, Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createRequestSeries } from './request-series.js';

const BOUNDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** The same two metrics as prom-client's own Counter and Histogram, fed through labelled children. */
function stockSeries(registry: Registry) {
  const requests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency.',
    labelNames: ['method', 'route'] as const,
    buckets: BOUNDS,
    registers: [registry],
  });
  return {
    observe(method: string, route: string, status: number, seconds: number) {
      durations.labels({ method, route }).observe(seconds);
      requests.labels({ method, route, status: String(status) }).inc();
    },
  };
}

/** A small deterministic generator, so that a failure can be replayed. */
function random(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

describe('request series', () => {
  it('export what prom-client exports for the same requests, as text and as JSON', async () => {
    const stockRegistry = new Registry();
    const oursRegistry = new Registry();
    const stock = stockSeries(stockRegistry);
    const ours = createRequestSeries(oursRegistry, BOUNDS);
    expect(await oursRegistry.metrics()).toBe(await stockRegistry.metrics());

    const next = random(16);
    const routes = ['/organizations/:organizationId/customers/:customerId', '/healthz', 'unmatched', '/a"quote\\'];
    const seconds = [0, 0.001, 0.0011, 0.005, 0.2, 1, 5, 5.0001, 30, 0.0004];
    for (let i = 0; i < 2000; i++) {
      const method = next() < 0.8 ? 'GET' : 'POST';
      const route = routes[Math.floor(next() * routes.length)]!;
      const status = [200, 200, 200, 404, 400, 500][Math.floor(next() * 6)]!;
      const value = next() < 0.5 ? seconds[Math.floor(next() * seconds.length)]! : next() * 6;
      stock.observe(method, route, status, value);
      ours.observe(method, route, status, value);
    }
    const text = await oursRegistry.metrics();
    expect(text).toBe(await stockRegistry.metrics());
    expect(text).toContain('http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/healthz"}');
    expect(await oursRegistry.getMetricsAsJSON()).toEqual(await stockRegistry.getMetricsAsJSON());
  });

  it('merge across cluster workers as prom-client merges its own', async () => {
    const workers = [1, 2].map((n) => {
      const stockRegistry = new Registry();
      const oursRegistry = new Registry();
      const stock = stockSeries(stockRegistry);
      const ours = createRequestSeries(oursRegistry, BOUNDS);
      for (let i = 0; i < 50 * n; i++) {
        const status = i % 7 === 0 ? 404 : 200;
        stock.observe('GET', `/r${i % n}`, status, i / 100);
        ours.observe('GET', `/r${i % n}`, status, i / 100);
      }
      return { stockRegistry, oursRegistry };
    });
    const merged = async (registries: Registry[]) =>
      AggregatorRegistry.aggregate(await Promise.all(registries.map((r) => r.getMetricsAsJSON()))).metrics();
    expect(await merged(workers.map((w) => w.oursRegistry))).toBe(await merged(workers.map((w) => w.stockRegistry)));
  });
});
