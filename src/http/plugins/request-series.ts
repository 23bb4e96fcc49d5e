import { Counter, Histogram, type Registry } from 'prom-client';

type RouteLabel = 'method' | 'route';

/** One method and route: its request counts by status and its duration histogram, as plain numbers. */
interface Series {
  readonly labels: Record<RouteLabel, string>;
  /** Observations per bucket (not cumulative), in the order of the upper bounds. */
  readonly buckets: number[];
  sum: number;
  count: number;
  readonly statuses: Map<number, number>;
}

const DURATIONS = 'http_request_duration_seconds';
const DURATIONS_HELP = 'HTTP request latency.';

/**
 * A Histogram whose exported values come from the series: the entries prom-client's own Histogram gives for the
 * same observations, in its order (per series: the buckets, +Inf, sum, count). prom-client renders the text and
 * merges cluster workers from these entries.
 */
class SeriesHistogram extends Histogram<RouteLabel> {
  constructor(
    registry: Registry,
    private readonly upperBounds: readonly number[],
    private readonly all: ReadonlyMap<string, Series>,
  ) {
    super({
      name: DURATIONS,
      help: DURATIONS_HELP,
      labelNames: ['method', 'route'],
      buckets: [...upperBounds],
      registers: [registry],
    });
  }

  getForPromString() {
    const bucket = `${DURATIONS}_bucket`;
    const values = [];
    for (const series of this.all.values()) {
      const sharedLabels = series.labels;
      let cumulative = 0;
      for (let i = 0; i < this.upperBounds.length; i++) {
        cumulative += series.buckets[i]!;
        const le: number | string = this.upperBounds[i]!;
        values.push({ labels: { le }, sharedLabels, value: cumulative, metricName: bucket, exemplar: null });
      }
      values.push(
        { labels: { le: '+Inf' }, sharedLabels, value: series.count, metricName: bucket, exemplar: null },
        { labels: {}, sharedLabels, value: series.sum, metricName: `${DURATIONS}_sum`, exemplar: undefined },
        { labels: {}, sharedLabels, value: series.count, metricName: `${DURATIONS}_count`, exemplar: undefined },
      );
    }
    return Promise.resolve({ name: DURATIONS, help: DURATIONS_HELP, type: 'histogram', values, aggregator: 'sum' });
  }
}

/**
 * `http_requests_total` and `http_request_duration_seconds` by method and route, counted in plain numbers per
 * series and handed to prom-client only when scraped. prom-client validates and hashes the label set on every
 * `inc` and `observe`, a labelled child's included: with the hook calling them, about a tenth of the CPU of a get
 * (bench/ANALYSIS.md). /metrics shows what prom-client's own Counter and Histogram show for the same requests
 * (request-series.test.ts), so scrapes and the cluster merge see no difference.
 */
export function createRequestSeries(registry: Registry, upperBounds: readonly number[]) {
  const all = new Map<string, Series>();
  // (series, status) in the order each first occurred: the order prom-client's counter lists them.
  const statusOrder: [Series, number][] = [];
  new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests by route and status.',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [series, status] of statusOrder)
        this.inc({ ...series.labels, status: String(status) }, series.statuses.get(status));
    },
  });
  new SeriesHistogram(registry, upperBounds, all);
  return {
    /** Counts a finished request of `method` on `route` (the declared path, or 'unmatched'). */
    observe(this: void, method: string, route: string, status: number, seconds: number) {
      const key = `${method} ${route}`;
      let series = all.get(key);
      if (series === undefined) {
        series = {
          labels: { method, route },
          buckets: upperBounds.map(() => 0),
          sum: 0,
          count: 0,
          statuses: new Map(),
        };
        all.set(key, series);
      }
      let bucket = 0;
      while (bucket < upperBounds.length && seconds > upperBounds[bucket]!) bucket++;
      if (bucket < upperBounds.length) series.buckets[bucket]!++;
      series.sum += seconds;
      series.count++;
      const before = series.statuses.get(status);
      if (before === undefined) statusOrder.push([series, status]);
      series.statuses.set(status, (before ?? 0) + 1);
    },
  };
}
