import { CustomersApiError, errorFromResponse } from './errors.js';

export type FetchLike = (input: string, init: RequestInit) => Promise<Response>;

export interface TransportOptions {
  baseUrl: string;
  token: string;
  fetch: FetchLike;
  timeoutMs: number;
  retries: number;
  retryBaseDelayMs: number;
  maxRetryDelayMs: number;
  userAgent: string | undefined;
  onRetry: ((event: RetryEvent) => void) | undefined;
  /** A consistency token to start from (e.g. handed over by the process that wrote). */
  consistencyToken?: string | undefined;
}

/** What `onRetry` hears before each wait: which retry (1-based), how long it waits, and why. */
export interface RetryEvent {
  attempt: number;
  delayMs: number;
  error: CustomersApiError;
  method: string;
  url: string;
}

/** Options every call accepts. */
export interface CallOptions {
  /** Cancels the call (and its retries); the call rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
  /** Overrides the client's per-attempt timeout for this call. */
  timeoutMs?: number | undefined;
}

export interface ApiRequest extends CallOptions {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  query?: Record<string, string | number | undefined> | undefined;
  body?: unknown;
  headers?: Record<string, string | undefined> | undefined;
  /** Called with the headers of a successful response before its body is read. */
  onHeaders?: ((headers: Headers) => void) | undefined;
}

export interface ApiResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

const RETRY_STATUSES = new Set([429, 503]);
const CONSISTENCY_TOKEN = 'x-consistency-token';

/** A consistency token (a PostgreSQL WAL position, `16/B374D848`) as a number that orders them; undefined if not one. */
function tokenOrder(token: string): bigint | undefined {
  const match = /^([0-9A-F]{1,8})\/([0-9A-F]{1,8})$/i.exec(token);
  return match ? (BigInt(`0x${match[1]}`) << 32n) | BigInt(`0x${match[2]}`) : undefined;
}

/** The later of two tokens; a token that cannot be ordered replaces the other (the server's format is its own). */
export function laterToken(current: string | undefined, seen: string | null): string | undefined {
  if (seen === null || seen === '') return current;
  if (current === undefined) return seen;
  const a = tokenOrder(current);
  const b = tokenOrder(seen);
  return a !== undefined && b !== undefined && a > b ? current : seen;
}

/**
 * A request may be sent again only when repeating it cannot apply it twice:
 * safe and idempotent methods (RFC 9110 section 9.2.2), and POSTs that carry
 * an Idempotency-Key the server deduplicates on.
 */
export function isRetryable(request: Pick<ApiRequest, 'method' | 'headers'>): boolean {
  if (request.method === 'GET' || request.method === 'PUT' || request.method === 'DELETE') return true;
  return request.method === 'POST' && request.headers?.['Idempotency-Key'] !== undefined;
}

/** Retry-After in seconds, from delta-seconds or an HTTP-date (RFC 9110 section 10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isFinite(at) ? Math.max(0, Math.ceil((at - now) / 1000)) : undefined;
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export class Transport {
  readonly #options: TransportOptions;
  #consistencyToken: string | undefined;

  constructor(options: TransportOptions) {
    this.#options = options;
    this.#consistencyToken = options.consistencyToken;
  }

  /** The latest consistency token any response carried. */
  get consistencyToken(): string | undefined {
    return this.#consistencyToken;
  }

  url(path: string, query?: ApiRequest['query']): string {
    const url = new URL(this.#options.baseUrl.replace(/\/+$/, '') + path);
    for (const [key, value] of Object.entries(query ?? {})) {
      if (value !== undefined) url.searchParams.set(key, String(value));
    }
    return url.toString();
  }

  /** Delay before retry number `attempt` (0-based): Retry-After when the server sent one, else capped exponential backoff with full jitter. */
  retryDelay(attempt: number, retryAfterSeconds: number | undefined): number {
    const { retryBaseDelayMs, maxRetryDelayMs } = this.#options;
    if (retryAfterSeconds !== undefined) return Math.min(retryAfterSeconds * 1000, maxRetryDelayMs);
    const ceiling = Math.min(maxRetryDelayMs, retryBaseDelayMs * 2 ** attempt);
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  /**
   * One attempt, the body sent as given (a file) and the response returned unread (a download): for uploads and
   * streams, which cannot be replayed. The timeout covers the wait for the response's headers only.
   */
  async requestRaw(
    request: CallOptions & {
      method: 'GET' | 'POST';
      path: string;
      query?: ApiRequest['query'];
      body?: BodyInit | undefined;
      contentType?: string | undefined;
      accept?: string | undefined;
    },
  ): Promise<Response> {
    const url = this.url(request.path, request.query);
    const headers: Record<string, string> = {
      accept: request.accept ?? 'application/json',
      authorization: `Bearer ${this.#options.token}`,
    };
    if (this.#options.userAgent !== undefined) headers['user-agent'] = this.#options.userAgent;
    if (request.contentType !== undefined) headers['content-type'] = request.contentType;
    if (request.method === 'GET' && this.#consistencyToken !== undefined) {
      headers[CONSISTENCY_TOKEN] = this.#consistencyToken;
    }
    const controller = new AbortController();
    const onAbort = () => controller.abort(request.signal!.reason);
    if (request.signal?.aborted) throw request.signal.reason;
    request.signal?.addEventListener('abort', onAbort, { once: true });
    const timeoutMs = request.timeoutMs ?? this.#options.timeoutMs;
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    let response: Response;
    try {
      // duplex: a ReadableStream body is streamed (Node's fetch requires saying so; browsers ignore it).
      response = await this.#options.fetch(url, {
        method: request.method,
        headers,
        body: request.body,
        signal: controller.signal,
        ...(request.body instanceof ReadableStream ? { duplex: 'half' } : {}),
      } as RequestInit);
    } catch (error) {
      if (request.signal?.aborted) throw request.signal.reason;
      throw new CustomersApiError({
        status: 0,
        type: controller.signal.aborted ? 'timeout' : 'network_error',
        message: `${request.method} ${url} failed: ${(error as Error).message}`,
        cause: error,
      });
    } finally {
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
    }
    this.#consistencyToken = laterToken(this.#consistencyToken, response.headers.get(CONSISTENCY_TOKEN));
    if (!response.ok) throw await errorFromResponse(response, parseRetryAfter(response.headers.get('retry-after')));
    return response;
  }

  async request<T>(request: ApiRequest): Promise<ApiResponse<T>> {
    const url = this.url(request.path, request.query);
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: `Bearer ${this.#options.token}`,
    };
    if (this.#options.userAgent !== undefined) headers['user-agent'] = this.#options.userAgent;
    for (const [key, value] of Object.entries(request.headers ?? {})) if (value !== undefined) headers[key] = value;
    let body: string | undefined;
    if (request.body !== undefined) {
      body = JSON.stringify(request.body);
      headers['content-type'] = 'application/json';
    }
    const retries = isRetryable(request) ? this.#options.retries : 0;
    const timeoutMs = request.timeoutMs ?? this.#options.timeoutMs;

    for (let attempt = 0; ; attempt++) {
      let failure: CustomersApiError;
      const attemptController = new AbortController();
      const onAbort = () => attemptController.abort(request.signal!.reason);
      if (request.signal?.aborted) throw request.signal.reason;
      request.signal?.addEventListener('abort', onAbort, { once: true });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        attemptController.abort();
      }, timeoutMs);
      // Read-your-writes on a server with read replicas: a read carrying the latest token is served by a replica
      // only once it has replayed it. Read per attempt, so a retry carries whatever the client has seen since.
      if (request.method === 'GET' && this.#consistencyToken !== undefined) {
        headers[CONSISTENCY_TOKEN] = this.#consistencyToken;
      }
      try {
        const response = await this.#options.fetch(url, {
          method: request.method,
          headers,
          body,
          signal: attemptController.signal,
        });
        this.#consistencyToken = laterToken(this.#consistencyToken, response.headers.get(CONSISTENCY_TOKEN));
        if (response.ok) {
          request.onHeaders?.(response.headers);
          const text = await response.text();
          return {
            status: response.status,
            headers: response.headers,
            body: (text === '' ? undefined : JSON.parse(text)) as T,
          };
        }
        const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
        failure = await errorFromResponse(response, retryAfter);
        if (!RETRY_STATUSES.has(response.status)) throw failure;
      } catch (error) {
        if (error instanceof CustomersApiError && !RETRY_STATUSES.has(error.status)) {
          error.attempts = attempt + 1;
          throw error;
        }
        if (request.signal?.aborted) throw request.signal.reason;
        if (error instanceof CustomersApiError) failure = error;
        else if (timedOut) {
          failure = new CustomersApiError({
            status: 0,
            type: 'timeout',
            message: `No response within ${timeoutMs} ms: ${request.method} ${url}`,
            cause: error,
          });
        } else if (error instanceof SyntaxError) {
          throw new CustomersApiError({
            status: 0,
            type: 'invalid_response',
            message: `The response is not JSON: ${request.method} ${url}`,
            cause: error,
          });
        } else {
          failure = new CustomersApiError({
            status: 0,
            type: 'network_error',
            message: `${request.method} ${url} failed: ${(error as Error).message}`,
            cause: error,
          });
        }
      } finally {
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', onAbort);
      }
      failure.attempts = attempt + 1;
      if (attempt >= retries) throw failure;
      const delayMs = this.retryDelay(attempt, failure.retryAfter);
      this.#options.onRetry?.({ attempt: attempt + 1, delayMs, error: failure, method: request.method, url });
      await sleep(delayMs, request.signal);
    }
  }
}
