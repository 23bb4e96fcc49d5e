import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { newId } from '../domain/ids.js';
import { listEvents, type EventRow } from '../store/repositories/event-repository.js';
import {
  advanceSubscription,
  findClaimableSubscriptionIds,
  leaseSubscriptions,
  deleteReplay,
  findSubscriptionById,
  insertDelivery,
  listDueReplays,
  pruneDeliveries,
  releaseSubscription,
  renewLease,
  rescheduleReplay,
  type WebhookDeliveryRow,
  type WebhookReplayRow,
  type WebhookSubscriptionRow,
} from '../store/repositories/webhook-repository.js';
import type { Store } from '../store/store.js';
import { createWebhookAgents, postWebhook, type WebhookAgents, type WebhookOutcome } from './delivery.js';
import { signWebhookBody, signWebhookTimestamp } from './signing.js';
import { systemResolver, type HostResolver } from './url-policy.js';

export interface DispatcherLogger {
  warn(object: object, message: string): void;
  error(object: object, message: string): void;
}

export interface WebhookDispatcherOptions {
  store: Store;
  retryBaseMs: number;
  maxAttempts: number;
  timeoutMs: number;
  pollIntervalMs: number;
  allowPrivateUrls: boolean;
  resolve?: HostResolver;
  /** Subscriptions worked on at once by this dispatcher. */
  concurrency?: number;
  /** How long a claim lasts without renewal; another dispatcher takes over an expired one. */
  leaseMs?: number;
  /** Events delivered per claim before the subscription is released, so every subscription gets its turn. */
  batchSize?: number;
  /** Attempts older than this are deleted (hourly, and when the dispatcher starts); default 30 days. */
  deliveryRetentionMs?: number;
  /** Identifies this dispatcher in leases; unique per instance by default. */
  owner?: string;
  log?: DispatcherLogger;
  /** Called after every delivery attempt (metrics). */
  onAttempt?: (attempt: { subscriptionId: string; ok: boolean; rejected: boolean; lagSeconds: number }) => void;
}

export interface WebhookDispatcher {
  readonly owner: string;
  start(): void;
  /** Looks for work now instead of at the next poll. */
  wake(): void;
  /** Stops claiming, lets in-flight deliveries finish and be recorded, and releases every lease. */
  stop(): Promise<void>;
}

export type DeliveryStatus = 'succeeded' | 'rejected' | 'retrying' | 'failed';

/**
 * LOKE's rule: an attempt failed (and is retried) only when the receiver gave no response (connection error,
 * timeout, refused target) or answered >= 500. Any other answer ends the delivery: 2xx succeeded; 3xx and 4xx are
 * the receiver's considered refusal, recorded as rejected and never retried (an operator can redeliver by hand).
 */
export function attemptFailed(outcome: WebhookOutcome): boolean {
  return !outcome.ok && (outcome.status === undefined || outcome.status < 200 || outcome.status >= 500);
}

/** Delay before attempt `attempt + 1`: base, 2×base, 4×base, ... */
export function retryDelayMs(retryBaseMs: number, attempt: number): number {
  return retryBaseMs * 2 ** (attempt - 1);
}

const PRUNE_INTERVAL_MS = 3_600_000;

const silentLog: DispatcherLogger = { warn: () => undefined, error: () => undefined };

/**
 * Leases are timed by the database's clock, so processes on machines whose
 * clocks disagree still agree on when a lease has expired. `now` (the
 * dispatcher's clock) only decides whether a retry or replay is due.
 *
 * Leases up to `limit` subscriptions that have work due. Subscriptions leased
 * by a live dispatcher are skipped; an expired lease (its holder crashed) is
 * taken over. On PostgreSQL the candidate rows are locked with SKIP LOCKED, so
 * concurrent claimers split the work instead of queueing on each other.
 */
export async function claimSubscriptions(
  store: Store,
  owner: string,
  now: number,
  leaseMs: number,
  limit: number,
): Promise<WebhookSubscriptionRow[]> {
  // An idle poll stays a plain read: no write transaction (on SQLite, no write lock) unless there is work.
  const any = await findClaimableSubscriptionIds(store.db, store.sql, now, 1, { lock: false });
  if (any.length === 0) return [];
  return store.db.transaction().execute(async (trx) => {
    const ids = await findClaimableSubscriptionIds(trx, store.sql, now, limit, { lock: true });
    return leaseSubscriptions(trx, store.sql, ids, owner, leaseMs);
  });
}

/**
 * Delivers the event log to webhook subscriptions (a transactional outbox
 * relay). Each subscription has a cursor in the database: the dispatcher
 * leases a subscription, posts the events after its cursor one at a time in
 * sequence order, and moves the cursor in the same transaction that records
 * the attempt. A failed attempt (no response, or >= 500) is retried with
 * exponential backoff and nothing later is sent meanwhile; after the last
 * attempt the event is marked failed and the subscription moves on, so one
 * poison event cannot block it forever (an operator can replay it). A 3xx or
 * 4xx answer is the receiver rejecting the event: recorded, not retried. Leases keep two dispatchers off one
 * subscription, and let another take over when a process dies.
 */
export function createWebhookDispatcher(options: WebhookDispatcherOptions): WebhookDispatcher {
  const { store, retryBaseMs, maxAttempts, timeoutMs, pollIntervalMs } = options;
  const resolve = options.resolve ?? systemResolver;
  const concurrency = options.concurrency ?? 8;
  const leaseMs = options.leaseMs ?? Math.max(30_000, timeoutMs * 3);
  const batchSize = options.batchSize ?? 100;
  const owner = options.owner ?? `${os.hostname()}/${process.pid}/${randomBytes(4).toString('hex')}`;
  const log = options.log ?? silentLog;
  const retentionMs = options.deliveryRetentionMs ?? 30 * 86_400_000;
  let prunedAt = 0;

  let running = false;
  let loop: Promise<void> | undefined;
  let agents: WebhookAgents | undefined;
  const active = new Set<Promise<void>>();
  let woken = false;
  let wakeSleeper: (() => void) | undefined;

  function wake() {
    woken = true;
    wakeSleeper?.();
  }

  function sleep(ms: number): Promise<void> {
    if (woken) {
      woken = false;
      return Promise.resolve();
    }
    return new Promise((resolveSleep) => {
      const timer = setTimeout(finish, ms);
      function finish() {
        clearTimeout(timer);
        wakeSleeper = undefined;
        woken = false;
        resolveSleep();
      }
      wakeSleeper = finish;
    });
  }

  async function send(subscription: WebhookSubscriptionRow, event: EventRow, attempt: number): Promise<WebhookOutcome> {
    const outcome = await post(subscription, event, attempt);
    options.onAttempt?.({
      subscriptionId: subscription.id,
      ok: outcome.ok,
      rejected: !outcome.ok && !attemptFailed(outcome),
      lagSeconds: Math.max(0, (Date.now() - event.occurred_at) / 1000),
    });
    return outcome;
  }

  async function post(subscription: WebhookSubscriptionRow, event: EventRow, attempt: number): Promise<WebhookOutcome> {
    const body = Buffer.from(event.payload, 'utf8');
    const timestamp = Math.floor(Date.now() / 1000);
    return postWebhook({
      url: subscription.url,
      body,
      timeoutMs,
      allowPrivate: options.allowPrivateUrls,
      resolve,
      agents,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'customers-api-webhooks/1',
        'x-event-id': event.id,
        'x-event-sequence': String(event.sequence),
        'x-event-type': event.type,
        'x-event-timestamp': String(timestamp),
        'x-event-attempt': String(attempt),
        'x-event-signature': signWebhookBody(subscription.secret, body),
        'x-event-timestamp-signature': signWebhookTimestamp(subscription.secret, timestamp, body),
      },
    });
  }

  function deliveryRow(
    subscription: WebhookSubscriptionRow,
    event: EventRow,
    attempt: number,
    outcome: WebhookOutcome,
    status: DeliveryStatus,
    now: number,
    nextAttemptAt: number | null,
    replay: boolean,
  ): WebhookDeliveryRow {
    return {
      organization_id: subscription.organization_id,
      id: newId(now),
      subscription_id: subscription.id,
      event_sequence: event.sequence,
      event_id: event.id,
      event_type: event.type,
      attempt,
      status,
      response_status: outcome.status ?? null,
      error: outcome.ok ? null : (outcome.error ?? 'failed'),
      duration_ms: outcome.durationMs,
      next_attempt_at: nextAttemptAt,
      replay: replay ? 1 : 0,
      created_at: now,
    };
  }

  function judge(
    outcome: WebhookOutcome,
    attempt: number,
    now: number,
  ): { status: DeliveryStatus; nextAttemptAt: number | null } {
    if (outcome.ok) return { status: 'succeeded', nextAttemptAt: null };
    if (!attemptFailed(outcome)) return { status: 'rejected', nextAttemptAt: null };
    if (attempt >= maxAttempts) return { status: 'failed', nextAttemptAt: null };
    return { status: 'retrying', nextAttemptAt: now + retryDelayMs(retryBaseMs, attempt) };
  }

  async function findEvent(organizationId: string, sequence: number): Promise<EventRow | undefined> {
    const [row] = await listEvents(store.db, organizationId, sequence - 1, 1);
    return row?.sequence === sequence ? row : undefined;
  }

  /** Replays an operator asked for; out of band, they do not touch the cursor. Returns false when the lease is lost. */
  async function runReplays(subscription: WebhookSubscriptionRow): Promise<boolean> {
    const due = await listDueReplays(store.db, subscription.id, Date.now(), batchSize);
    for (const replay of due) {
      if (!running) return true;
      const event = await findEvent(subscription.organization_id, replay.event_sequence);
      if (!event) {
        await deleteReplay(store.db, replay.organization_id, replay.id);
        continue;
      }
      if (!(await recordReplay(subscription, replay, event))) return false;
    }
    return true;
  }

  async function recordReplay(
    subscription: WebhookSubscriptionRow,
    replay: WebhookReplayRow,
    event: EventRow,
  ): Promise<boolean> {
    const attempt = replay.attempts + 1;
    const outcome = await send(subscription, event, attempt);
    const now = Date.now();
    const { status, nextAttemptAt } = judge(outcome, attempt, now);
    return store.db.transaction().execute(async (trx) => {
      if (!(await renewLease(trx, store.sql, subscription.id, owner, leaseMs))) return false;
      await insertDelivery(trx, deliveryRow(subscription, event, attempt, outcome, status, now, nextAttemptAt, true));
      if (status === 'retrying')
        await rescheduleReplay(trx, replay.organization_id, replay.id, attempt, nextAttemptAt!);
      else await deleteReplay(trx, replay.organization_id, replay.id);
      return true;
    });
  }

  /** Delivers events after the cursor, in order, until caught up, blocked by a retry, or the batch is used up. */
  async function runStream(claimed: WebhookSubscriptionRow): Promise<void> {
    // Re-read so a PUT that landed after the claim (new URL, secret or events) applies from the next event on.
    const subscription = await findSubscriptionById(store.db, claimed.id);
    if (!subscription || subscription.lease_owner !== owner) return;
    if (subscription.next_attempt_at > Date.now()) return;
    const wanted = new Set(JSON.parse(subscription.events) as string[]);
    let cursor = subscription.cursor_sequence;
    let attempts = subscription.attempts;
    let saved = cursor;
    let delivered = 0;
    // Skipping unsubscribed events is cheap but not free: bound it too, so the lease is renewed and others get a turn.
    let scanned = 0;
    const hasBudget = () => running && delivered < batchSize && scanned < batchSize * 20;
    while (hasBudget()) {
      const events = await listEvents(store.db, subscription.organization_id, cursor, batchSize);
      if (events.length === 0) break;
      for (const event of events) {
        scanned += 1;
        if (!wanted.has(event.type)) {
          cursor = event.sequence;
          continue;
        }
        const attempt = attempts + 1;
        const outcome = await send(subscription, event, attempt);
        const now = Date.now();
        const { status, nextAttemptAt } = judge(outcome, attempt, now);
        if (status === 'retrying') {
          attempts = attempt;
        } else {
          cursor = event.sequence;
          attempts = 0;
        }
        const progress = { cursor_sequence: cursor, attempts, next_attempt_at: nextAttemptAt ?? 0 };
        const kept = await store.db.transaction().execute(async (trx) => {
          if (!(await advanceSubscription(trx, store.sql, subscription.id, owner, progress, leaseMs))) return false;
          await insertDelivery(
            trx,
            deliveryRow(subscription, event, attempt, outcome, status, now, nextAttemptAt, false),
          );
          return true;
        });
        if (!kept) return;
        if (status === 'rejected') {
          log.warn(
            {
              organizationId: subscription.organization_id,
              webhook: subscription.ref,
              eventSequence: event.sequence,
              responseStatus: outcome.status,
            },
            'webhook receiver rejected the event; not retried, moving on (redeliver with the retry endpoint)',
          );
        } else if (status === 'failed') {
          log.warn(
            {
              organizationId: subscription.organization_id,
              webhook: subscription.ref,
              eventSequence: event.sequence,
              error: outcome.error,
            },
            `webhook delivery failed after ${attempt} attempts; moving on (redeliver with the retry endpoint)`,
          );
        }
        saved = cursor;
        if (status === 'retrying') return;
        delivered += 1;
        if (!hasBudget()) break;
      }
    }
    if (cursor !== saved) {
      await advanceSubscription(
        store.db,
        store.sql,
        subscription.id,
        owner,
        { cursor_sequence: cursor, attempts, next_attempt_at: 0 },
        leaseMs,
      );
    }
  }

  /** True when it ended normally: then more work may be waiting, so the loop should look again at once. */
  async function work(subscription: WebhookSubscriptionRow): Promise<boolean> {
    try {
      if (await runReplays(subscription)) await runStream(subscription);
      return true;
    } catch (error) {
      log.error(
        { err: error, subscription: subscription.ref, organizationId: subscription.organization_id },
        'webhook dispatch failed',
      );
      return false;
    } finally {
      await releaseSubscription(store.db, subscription.id, owner).catch((error: unknown) =>
        log.warn(
          { err: error, subscription: subscription.ref },
          'could not release webhook lease; it expires on its own',
        ),
      );
    }
  }

  async function pruneHistory(): Promise<void> {
    if (Date.now() - prunedAt < PRUNE_INTERVAL_MS) return;
    prunedAt = Date.now();
    try {
      // In slices, so no single statement holds many locks; every dispatcher may do this, deletes are idempotent.
      while (running && (await pruneDeliveries(store.db, Date.now() - retentionMs, 1000)) === 1000);
    } catch (error) {
      log.warn({ err: error }, 'could not prune old webhook deliveries; will try again');
    }
  }

  async function run(): Promise<void> {
    while (running) {
      await pruneHistory();
      const free = concurrency - active.size;
      let claimed: WebhookSubscriptionRow[] = [];
      if (free > 0) {
        try {
          claimed = await claimSubscriptions(store, owner, Date.now(), leaseMs, free);
        } catch (error) {
          if (!running) break;
          log.warn({ err: error }, 'webhook dispatcher could not claim work; retrying');
        }
        for (const subscription of claimed) {
          const job: Promise<void> = work(subscription).then((clean) => {
            active.delete(job);
            // After an error, wait for the next poll rather than spin on a failing database.
            if (clean) wake();
          });
          active.add(job);
        }
      }
      if (claimed.length === 0 || active.size >= concurrency) await sleep(pollIntervalMs);
    }
  }

  return {
    owner,
    start() {
      if (running) return;
      running = true;
      agents = createWebhookAgents(concurrency);
      loop = run();
    },
    wake,
    async stop() {
      if (!running) return;
      running = false;
      wake();
      await loop;
      await Promise.all([...active]);
      agents?.http.destroy();
      agents?.https.destroy();
      agents = undefined;
    },
  };
}
