import { conflict, invalidField, notFound } from '../../errors.js';
import type { PutWebhookBody, Webhook, WebhookDelivery, WebhookReplay } from '../../contract/webhooks.js';
import { advanceOrganizationClock } from '../../store/repositories/organization-repository.js';
import {
  deleteSubscription,
  findDelivery,
  findQueuedReplay,
  findSubscription,
  insertReplay,
  insertSubscription,
  listDeliveries,
  listSubscriptions,
  replaceSubscription,
  type WebhookDeliveryRow,
  type WebhookReplayRow,
  type WebhookSubscriptionRow,
} from '../../store/repositories/webhook-repository.js';
import type { Store } from '../../store/store.js';
import { checkWebhookUrlSyntax, resolveWebhookTarget, type HostResolver } from '../../webhooks/url-policy.js';
import type { WriteSignal } from '../../webhooks/write-signal.js';
import { newId } from '../ids.js';
import { decodeCursor, fingerprint, toPage, type Page } from '../paging.js';
import { formatMillis } from '../time.js';

export const WEBHOOK_PAGE_SIZE = 100;
export const DELIVERY_PAGE_SIZE = 100;
/** How long a PUT waits for the URL's host to resolve before refusing it. */
const DNS_TIMEOUT_MS = 5000;

export function subscriptionRowToWebhook(row: WebhookSubscriptionRow): Webhook {
  return { ref: row.ref, url: row.url, events: JSON.parse(row.events) as string[] };
}

export function deliveryRowToDelivery(row: WebhookDeliveryRow): WebhookDelivery {
  const delivery: WebhookDelivery = {
    id: row.id,
    eventId: row.event_id,
    eventSequence: row.event_sequence,
    event: row.event_type,
    attempt: row.attempt,
    status: row.status as WebhookDelivery['status'],
    durationMs: row.duration_ms,
    attemptedAt: formatMillis(row.created_at),
    replay: row.replay === 1,
  };
  if (row.response_status !== null) delivery.responseStatus = row.response_status;
  if (row.error !== null) delivery.error = row.error;
  if (row.next_attempt_at !== null) delivery.nextAttemptAt = formatMillis(row.next_attempt_at);
  return delivery;
}

function replayRowToReplay(row: WebhookReplayRow, delivery: WebhookDeliveryRow): WebhookReplay {
  return { id: row.id, eventId: delivery.event_id, eventSequence: row.event_sequence, event: delivery.event_type };
}

export interface WebhookServiceOptions {
  allowPrivateUrls: boolean;
  resolve: HostResolver;
  writeSignal: WriteSignal;
}

export function createWebhookService(store: Store, options: WebhookServiceOptions) {
  async function validateUrl(raw: string): Promise<string> {
    const syntax = checkWebhookUrlSyntax(raw, options.allowPrivateUrls);
    if (!syntax.ok) throw invalidField('url', syntax.reason);
    const target = await resolveWebhookTarget(syntax.url, options.allowPrivateUrls, options.resolve, DNS_TIMEOUT_MS);
    if (!target.ok) throw invalidField('url', target.reason);
    return syntax.url.toString();
  }

  async function getSubscriptionRow(organizationId: string, ref: string): Promise<WebhookSubscriptionRow> {
    const row = await findSubscription(store.db, organizationId, ref);
    if (!row) throw notFound('Webhook');
    return row;
  }

  return {
    /**
     * Creates or replaces the subscription named `ref`. A new subscription
     * receives the events written after it; a replaced one keeps its place in
     * the log and gets the new URL, secret and events from its next delivery.
     */
    async putWebhook(
      organizationId: string,
      ref: string,
      body: PutWebhookBody,
    ): Promise<{ created: boolean; webhook: Webhook }> {
      const url = await validateUrl(body.url);
      const events = JSON.stringify(body.events);
      const row = await store.db.transaction().execute(async (trx) => {
        // Taking the organization lock makes the head of the log exact and serializes PUTs of one ref.
        const tick = await advanceOrganizationClock(trx, store, organizationId, 0);
        if (!tick) throw notFound('Organization');
        const existing = await findSubscription(trx, organizationId, ref);
        if (existing) {
          await replaceSubscription(trx, organizationId, ref, {
            url,
            secret: body.secret,
            events,
            updated_at: tick.now,
          });
          return { ...existing, url, events, created: false };
        }
        const created: WebhookSubscriptionRow = {
          organization_id: organizationId,
          ref,
          id: newId(tick.now),
          url,
          secret: body.secret,
          events,
          created_at: tick.now,
          updated_at: tick.now,
          cursor_sequence: tick.firstSequence - 1,
          attempts: 0,
          next_attempt_at: 0,
          lease_owner: null,
          lease_until: null,
        };
        await insertSubscription(trx, created);
        return { ...created, created: true };
      });
      return { created: row.created, webhook: subscriptionRowToWebhook(row) };
    },

    async listWebhooks(
      organizationId: string,
      options: { after?: string | undefined; limit?: number | undefined },
    ): Promise<Page<Webhook>> {
      const limit = options.limit ?? WEBHOOK_PAGE_SIZE;
      const queryId = fingerprint('webhooks', organizationId);
      const [afterRef] = options.after ? (decodeCursor(options.after, queryId, ['string']) as [string]) : [''];
      const rows = await listSubscriptions(store.db, organizationId, afterRef, limit + 1);
      return toPage(rows, limit, queryId, (row) => [row.ref], subscriptionRowToWebhook);
    },

    async deleteWebhook(organizationId: string, ref: string): Promise<void> {
      const deleted = await store.db.transaction().execute((trx) => deleteSubscription(trx, organizationId, ref));
      if (!deleted) throw notFound('Webhook');
    },

    async listDeliveries(
      organizationId: string,
      ref: string,
      options: { after?: string | undefined; limit?: number | undefined },
    ): Promise<Page<WebhookDelivery>> {
      const limit = options.limit ?? DELIVERY_PAGE_SIZE;
      const queryId = fingerprint('webhook-deliveries', organizationId, ref);
      const [beforeId] = options.after ? (decodeCursor(options.after, queryId, ['string']) as [string]) : [undefined];
      const subscription = await getSubscriptionRow(organizationId, ref);
      const rows = await listDeliveries(store.db, organizationId, subscription.id, beforeId, limit + 1);
      return toPage(rows, limit, queryId, (row) => [row.id], deliveryRowToDelivery);
    },

    /**
     * Queues a redelivery of the event of a finished attempt. It goes out
     * beside the ordered stream, not in it: receivers that care about order
     * compare X-Event-Sequence. A redelivery already queued for the event is
     * returned rather than doubled.
     */
    async retryDelivery(organizationId: string, ref: string, deliveryId: string): Promise<WebhookReplay> {
      const subscription = await getSubscriptionRow(organizationId, ref);
      const delivery = await findDelivery(store.db, organizationId, deliveryId);
      if (!delivery || delivery.subscription_id !== subscription.id) throw notFound('Delivery');
      // An event past the cursor has not been settled yet: the ordered stream is still retrying it.
      if (delivery.event_sequence > subscription.cursor_sequence) {
        throw conflict('This event is still being retried; wait for it to succeed or fail before redelivering');
      }
      const replay = await store.db.transaction().execute(async (trx) => {
        const queued = await findQueuedReplay(trx, subscription.id, delivery.event_sequence);
        if (queued) return queued;
        const now = Date.now();
        const row: WebhookReplayRow = {
          organization_id: organizationId,
          id: newId(now),
          subscription_id: subscription.id,
          event_sequence: delivery.event_sequence,
          attempts: 0,
          next_attempt_at: now,
          created_at: now,
        };
        await insertReplay(trx, row);
        return row;
      });
      options.writeSignal.notify();
      return replayRowToReplay(replay, delivery);
    },
  };
}
export type WebhookService = ReturnType<typeof createWebhookService>;
