import { CustomersClient, PagedList, type Page } from '../../../src/client/index.js';
import { Transport, type ApiRequest } from '../../../src/client/transport.js';
import type { Insights } from '../../../src/contract/insights.js';
import type { PointsEntry } from '../../../src/contract/ledgers.js';
import type { Webhook, WebhookDelivery } from '../../../src/contract/webhooks.js';
import { Prefetches } from './prefetch.js';

export type { Insights, PointsEntry, Webhook, WebhookDelivery };

const enc = encodeURIComponent;

export interface ImportJob {
  id: string;
  status: 'running' | 'completed' | 'failed';
  format: 'csv' | 'ndjson';
  rowsRead: number;
  rowsImported: number;
  rowsRejected: number;
  rejects: { line: number; reason: string }[];
  startedAt: string;
  completedAt?: string;
  error?: string;
}

/**
 * The console's way to the API: the SDK for everything it covers, and the SDK's own transport (the same auth, retries
 * and error type) for the console's extensions the SDK does not wrap yet.
 */
export class Api {
  readonly client: CustomersClient;
  /** Requests started before the screen that makes them renders (see prefetch.ts). */
  readonly prefetched = new Prefetches();
  readonly #transport: Transport;
  readonly #token: string;

  constructor(token: string, baseUrl = location.origin) {
    this.#token = token;
    this.client = new CustomersClient({ baseUrl, token, retries: 1 });
    this.#transport = new Transport({
      baseUrl,
      token,
      fetch: globalThis.fetch.bind(globalThis),
      timeoutMs: 30_000,
      retries: 1,
      retryBaseDelayMs: 250,
      maxRetryDelayMs: 5_000,
      userAgent: undefined,
      onRetry: undefined,
    });
  }

  async request<T>(request: ApiRequest): Promise<T> {
    return (await this.#transport.request<T>(request)).body;
  }

  list<T>(request: ApiRequest): PagedList<T> {
    return new PagedList<T>(this.#transport, request);
  }

  pointsHistory(org: string, customerId: string, limit = 50): PagedList<PointsEntry> {
    return this.list({
      method: 'GET',
      path: `/organizations/${enc(org)}/customers/${enc(customerId)}/points`,
      query: { limit },
    });
  }

  webhooks = {
    list: (org: string) => this.list<Webhook>({ method: 'GET', path: `/organizations/${enc(org)}/webhooks` }),
    put: (org: string, ref: string, body: { url: string; secret: string; events: string[] }) =>
      this.request<Webhook>({ method: 'PUT', path: `/organizations/${enc(org)}/webhooks/${enc(ref)}`, body }),
    delete: (org: string, ref: string) =>
      this.request<void>({ method: 'DELETE', path: `/organizations/${enc(org)}/webhooks/${enc(ref)}` }),
    deliveries: (org: string, ref: string) =>
      this.list<WebhookDelivery>({
        method: 'GET',
        path: `/organizations/${enc(org)}/webhooks/${enc(ref)}/deliveries`,
      }),
    redeliver: (org: string, ref: string, deliveryId: string) =>
      this.request<unknown>({
        method: 'POST',
        path: `/organizations/${enc(org)}/webhooks/${enc(ref)}/deliveries/${enc(deliveryId)}/retry`,
      }),
  };

  insights(org: string, query: { from: string; to: string; interval: string }, signal?: AbortSignal) {
    return this.request<Insights>({ method: 'GET', path: `/organizations/${enc(org)}/insights`, query, signal });
  }

  importJob(org: string, id: string) {
    return this.request<ImportJob>({ method: 'GET', path: `/organizations/${enc(org)}/imports/${enc(id)}` });
  }

  /** The URL and headers of an authenticated request the SDK cannot make (a raw upload, a streamed download). */
  rawRequest(path: string, query: Record<string, string> = {}): { url: string; authorization: string } {
    return { url: this.#transport.url(path, query), authorization: `Bearer ${this.#token}` };
  }
}

export type { Page };
