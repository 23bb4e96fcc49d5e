import type { Config } from '../../src/config.js';
import type { Store } from '../../src/store/store.js';
import {
  createWebhookDispatcher,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
} from '../../src/webhooks/dispatcher.js';

/** A started dispatcher with the server's webhook settings and a fast poll; stop it in the test. */
export function startDispatcher(
  store: Store,
  config: Config,
  options: Partial<Omit<WebhookDispatcherOptions, 'store'>> = {},
): WebhookDispatcher {
  const dispatcher = createWebhookDispatcher({
    store,
    retryBaseMs: config.webhookRetryBaseMs,
    maxAttempts: config.webhookMaxAttempts,
    timeoutMs: config.webhookTimeoutMs,
    pollIntervalMs: 20,
    allowPrivateUrls: config.webhooksAllowPrivateUrls,
    ...options,
  });
  dispatcher.start();
  return dispatcher;
}

/** Stores a failed first attempt (HTTP 500) of delivering event `sequence`, as the dispatcher records one. */
export async function insertFailedDelivery(
  store: Store,
  row: { organizationId: string; subscriptionId: string; id: string; sequence: number; eventId: string },
): Promise<void> {
  await store.db
    .insertInto('webhook_deliveries')
    .values({
      organization_id: row.organizationId,
      id: row.id,
      subscription_id: row.subscriptionId,
      event_sequence: row.sequence,
      event_id: row.eventId,
      event_type: 'customer.created',
      attempt: 1,
      status: 'failed',
      response_status: 500,
      error: 'HTTP 500',
      duration_ms: 3,
      next_attempt_at: null,
      replay: 0,
      created_at: Date.now(),
    })
    .execute();
}
