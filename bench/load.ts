import autocannon from 'autocannon';

export interface LoadResult {
  /** Completed 2xx requests per second over the whole run. */
  rps: number;
  p50: number;
  p99: number;
  /** Response bytes per second. */
  bytesPerSec: number;
  total: number;
  failures: number;
  seconds: number;
  /** Server CPU time per completed request, in microseconds: robust to other load on the machine. */
  cpuMicros: number | undefined;
}

export interface LoadOptions {
  url: string;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH';
  /** A new path (and body) for every request. */
  next: () => { path: string; body?: string };
  headers?: Record<string, string>;
  connections: number;
  seconds: number;
  /** Reads the server process's CPU seconds, to report CPU time per request. */
  cpuSeconds?: () => number;
}

/** One bounded autocannon run on loopback; non-2xx answers and socket errors count as failures. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
  if (options.method && options.method !== 'GET') headers['content-type'] = 'application/json';
  const cpuBefore = options.cpuSeconds?.();
  const result = await autocannon({
    url: options.url,
    connections: options.connections,
    pipelining: 1,
    duration: options.seconds,
    timeout: 30,
    requests: [
      {
        method: options.method ?? 'GET',
        headers,
        setupRequest: (request) => {
          const { path, body } = options.next();
          return body === undefined ? { ...request, path } : { ...request, path, body };
        },
      },
    ],
  });
  const cpuAfter = options.cpuSeconds?.();
  const failures = result.non2xx + result.errors + result.timeouts;
  const ok = result.requests.total - result.non2xx;
  return {
    rps: ok / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    bytesPerSec: result.throughput.total / result.duration,
    total: result.requests.total,
    failures,
    seconds: result.duration,
    cpuMicros:
      cpuBefore === undefined || cpuAfter === undefined || ok === 0 ? undefined : ((cpuAfter - cpuBefore) * 1e6) / ok,
  };
}

export interface SyncResult {
  customers: number;
  pages: number;
  seconds: number;
  perSecond: number;
}

/**
 * The seed's sync recipe as a plain fetch loop: follow X-Next-Page until it
 * is absent. The next request goes out as soon as the headers arrive, while
 * the current body is still being read, as a careful client would do.
 */
export async function fetchAll(firstUrl: string, token: string | undefined): Promise<SyncResult> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const started = performance.now();
  let customers = 0;
  let pages = 0;
  let response: Response | undefined = await fetch(firstUrl, { headers });
  while (response) {
    if (!response.ok) throw new Error(`sync page ${pages + 1} answered ${response.status}: ${await response.text()}`);
    const next: string | null = response.headers.get('x-next-page');
    const pending: Promise<Response> | undefined = next ? fetch(next, { headers }) : undefined;
    const items = (await response.json()) as unknown[];
    customers += items.length;
    pages++;
    response = await pending;
  }
  const seconds = (performance.now() - started) / 1000;
  return { customers, pages, seconds, perSecond: customers / seconds };
}
