import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { verifyWebhookSignature, verifyWebhookTimestampSignature } from '../src/client/webhooks.js';
import { EVENT_TYPES } from '../src/contract/events.js';
import { loadConfig, parseDatabaseUrl } from '../src/config.js';
import type { FeedEvent } from '../src/contract/events.js';
import type { WebhookDelivery, WebhookReplay } from '../src/contract/webhooks.js';
import { startServer } from '../src/server.js';
import { openStore } from '../src/store/open-store.js';
import { claimSubscriptions } from '../src/webhooks/dispatcher.js';
import type { Store } from '../src/store/store.js';
import type { HostResolver } from '../src/webhooks/url-policy.js';
import { describeEachBackend } from './helpers/backends.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { startReceiver, type ReceivedRequest, type WebhookReceiver } from './helpers/webhook-receiver.js';
import { startDispatcher } from './helpers/webhooks.js';
import { runCli } from './helpers/cli.js';
import { createMetrics } from '../src/http/plugins/metrics.js';

const SECRET = 'a-shared-secret';
const RETRY_BASE_MS = 50;
const MAX_ATTEMPTS = 4;
const TIMEOUT_MS = 300;
const WAIT = { timeout: 20_000, interval: 20 };

const fakeDns =
  (table: Record<string, string>): HostResolver =>
  async (hostname) => {
    const address = table[hostname];
    if (!address) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return [{ address, family: address.includes(':') ? 6 : 4 }];
  };

const sequenceOf = (request: ReceivedRequest) => Number(request.headers['x-event-sequence']);

await describeEachBackend('webhook delivery', (backend) => {
  let server: TestServer;
  const receivers: WebhookReceiver[] = [];
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    server = await startTestServer(
      backend,
      {
        WEBHOOKS_ALLOW_PRIVATE_URLS: 'true',
        WEBHOOK_RETRY_BASE_MS: String(RETRY_BASE_MS),
        WEBHOOK_MAX_ATTEMPTS: String(MAX_ATTEMPTS),
        WEBHOOK_TIMEOUT_MS: String(TIMEOUT_MS),
      },
      { resolve: fakeDns({ 'receiver.test': '127.0.0.1', 'rebind.example.com': '93.184.216.34' }) },
    );
  });
  // Every test stops its dispatchers, so none works on another test's subscriptions.
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    for (const receiver of receivers.splice(0)) await receiver.close();
  });
  afterAll(async () => server?.close());

  async function receiver(...args: Parameters<typeof startReceiver>) {
    const started = await startReceiver(...args);
    receivers.push(started);
    return started;
  }

  function dispatcher(store: Store = server.store, options: Parameters<typeof startDispatcher>[2] = {}) {
    // A generous timeout unless a test is about timeouts: a slow CI machine must not turn into retries.
    const started = startDispatcher(store, server.config, { timeoutMs: 10_000, ...options });
    cleanups.push(() => started.stop());
    return started;
  }

  async function setup(url: string, events: string[] = ['customer.created', 'customer.updated'], ref = 'hook') {
    const org = await server.createOrganization();
    const token = await server.createToken([org.id], ['webhooks:manage', 'customers:read', 'customers:write']);
    const put = await server.request('PUT', `/organizations/${org.id}/webhooks/${ref}`, {
      token,
      body: { url, secret: SECRET, events },
    });
    expect(put.status).toBe(201);
    return { org, token };
  }

  async function deliveries(organizationId: string, token: string, ref = 'hook'): Promise<WebhookDelivery[]> {
    const response = await server.request<WebhookDelivery[]>(
      'GET',
      `/organizations/${organizationId}/webhooks/${ref}/deliveries`,
      { token },
    );
    expect(response.status).toBe(200);
    return response.body.slice().reverse();
  }

  async function feed(organizationId: string, token: string): Promise<FeedEvent[]> {
    const response = await server.request<FeedEvent[]>('GET', `/organizations/${organizationId}/events`, { token });
    expect(response.status).toBe(200);
    return response.body;
  }

  async function subscriptionRow(organizationId: string, ref = 'hook') {
    return server.store.db
      .selectFrom('webhook_subscriptions')
      .selectAll()
      .where('organization_id', '=', organizationId)
      .where('ref', '=', ref)
      .executeTakeFirstOrThrow();
  }

  it('posts each event signed, with the feed payload byte for byte and the event headers', async () => {
    const hook = await receiver();
    dispatcher();
    const { org, token } = await setup(`${hook.url}/signed`);
    const first = await server.createCustomer(org.id, { email: 'ann@example.com' }, token);
    await server.createCustomer(org.id, {}, token);
    const patched = await server.request('PATCH', `/organizations/${org.id}/customers/${first.id}`, {
      token,
      body: { firstName: 'Changed' },
    });
    expect(patched.status).toBe(200);

    await vi.waitFor(() => expect(hook.requests).toHaveLength(3), WAIT);
    const events = await feed(org.id, token);
    expect(events.map((e) => e.event)).toEqual(['customer.created', 'customer.created', 'customer.updated']);
    const stored = await server.store.db
      .selectFrom('events')
      .select(['sequence', 'payload'])
      .where('organization_id', '=', org.id)
      .orderBy('sequence')
      .execute();

    hook.requests.forEach((request, i) => {
      const { id, sequence, occurredAt, ...payload } = events[i]!;
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/signed');
      expect(request.headers['content-type']).toBe('application/json');
      expect(request.headers['x-event-id']).toBe(id);
      expect(request.headers['x-event-sequence']).toBe(String(sequence));
      expect(request.headers['x-event-type']).toBe(payload.event);
      expect(occurredAt).toMatch(/Z$/);
      expect(request.text).toBe(stored[i]!.payload);
      expect(JSON.parse(request.text)).toEqual(payload);
      expect(verifyWebhookSignature(request.body, request.headers['x-event-signature'] as string, SECRET)).toBe(true);
      expect(verifyWebhookSignature(request.body, request.headers['x-event-signature'] as string, 'wrong')).toBe(false);
      expect(request.headers['x-event-timestamp']).toMatch(/^\d{10}$/);
      expect(
        verifyWebhookTimestampSignature(
          request.body,
          request.headers['x-event-timestamp'] as string,
          request.headers['x-event-timestamp-signature'] as string,
          SECRET,
        ),
      ).toBe(true);
    });

    await vi.waitFor(async () => expect(await deliveries(org.id, token)).toHaveLength(3), WAIT);
    const attempts = await deliveries(org.id, token);
    expect(
      attempts.map((d) => [d.eventSequence, d.eventId, d.event, d.attempt, d.status, d.responseStatus, d.replay]),
    ).toEqual(events.map((e) => [e.sequence, e.id, e.event, 1, 'succeeded', 200, false]));
    expect(attempts.every((d) => d.error === undefined && d.nextAttemptAt === undefined)).toBe(true);
    expect((await subscriptionRow(org.id)).cursor_sequence).toBe(events[2]!.sequence);

    const firstPage = await server.request<WebhookDelivery[]>(
      'GET',
      `/organizations/${org.id}/webhooks/hook/deliveries?limit=2`,
      {
        token,
      },
    );
    expect(firstPage.body.map((d) => d.eventSequence)).toEqual([3, 2]);
    const next = firstPage.headers.get('x-next-page');
    expect(next).toContain('limit=2&after=');
    const secondPage = await server.request<WebhookDelivery[]>('GET', next!, { token });
    expect(secondPage.body.map((d) => d.eventSequence)).toEqual([1]);
    expect(secondPage.headers.get('x-next-page')).toBeNull();
  });

  it('is woken by a write of its own process instead of waiting for the next poll', async () => {
    const hook = await receiver();
    // Polls once at start, then not for a minute: only the write signal can make it deliver within the test.
    const idle = dispatcher(server.store, { pollIntervalMs: 60_000 });
    const unsubscribe = server.services.writeSignal.subscribe(() => idle.wake());
    cleanups.push(async () => {
      unsubscribe();
    });
    const { org, token } = await setup(`${hook.url}/woken`, ['customer.created']);
    await server.createCustomer(org.id, {}, token);
    await vi.waitFor(() => expect(hook.requests).toHaveLength(1), WAIT);
    expect(sequenceOf(hook.requests[0]!)).toBe(1);
  });

  it('delivers every kind of event exactly as the feed has it', async () => {
    const hook = await receiver();
    dispatcher();
    const { org, token } = await setup(`${hook.url}/all`, [...EVENT_TYPES]);
    const customer = await server.createCustomer(org.id, { email: 'all@example.com' }, token);
    const base = `/organizations/${org.id}`;
    const list = await server.request<{ id: string }>('POST', `${base}/customer-lists`, {
      token,
      body: { name: 'VIP' },
    });
    expect(list.status).toBe(201);
    const writes: [string, string, unknown?][] = [
      ['PATCH', `${base}/customers/${customer.id}`, { firstName: 'Changed' }],
      ['PUT', `${base}/customer-lists/${list.body.id}`, { name: 'Very Important' }],
      ['PUT', `${base}/customer-lists/${list.body.id}/members/${customer.id}`],
      ['PUT', `${base}/customers/${customer.id}/points/order-1`, { amount: 150 }],
      ['DELETE', `${base}/customer-lists/${list.body.id}/members/${customer.id}`],
      ['PUT', `${base}/payments/pay-1`, { billingType: 'tab', chargedAmount: 500, customerId: customer.id }],
      ['POST', `${base}/payments/pay-1/refund`, { amount: 100 }],
    ];
    const erasures: [string, string, unknown?][] = [
      ['DELETE', `${base}/customers/${customer.id}`],
      ['DELETE', `${base}/customer-lists/${list.body.id}`],
    ];
    const withoutFeedFields = ({ id: _id, sequence: _sequence, occurredAt: _occurredAt, ...payload }: FeedEvent) =>
      payload;
    for (const [method, path, body] of writes) {
      const response = await server.request(method, path, { token, body });
      expect(response.status, `${method} ${path}: ${response.text}`).toBeLessThan(300);
    }
    const before = await feed(org.id, token);
    await vi.waitFor(() => expect(hook.requests).toHaveLength(before.length), WAIT);
    expect(hook.requests.map((r) => JSON.parse(r.text) as unknown)).toEqual(before.map(withoutFeedFields));

    // Erasure scrubs the customer from the feed's earlier events; what was delivered before cannot be recalled.
    for (const [method, path, body] of erasures) {
      const response = await server.request(method, path, { token, body });
      expect(response.status, `${method} ${path}: ${response.text}`).toBeLessThan(300);
    }
    const events = await feed(org.id, token);
    expect(new Set(events.map((e) => e.event))).toEqual(new Set(EVENT_TYPES));
    await vi.waitFor(() => expect(hook.requests).toHaveLength(events.length), WAIT);
    expect(hook.requests.slice(before.length).map((r) => JSON.parse(r.text) as unknown)).toEqual(
      events.slice(before.length).map(withoutFeedFields),
    );
    expect(hook.requests.map((r) => r.headers['x-event-id'])).toEqual(events.map((e) => e.id));
  });

  it('sends only the subscribed events and moves the cursor past the others', async () => {
    const hook = await receiver();
    dispatcher();
    const { org, token } = await setup(`${hook.url}/updates`, ['customer.updated']);
    const customer = await server.createCustomer(org.id, {}, token);
    await server.createCustomer(org.id, {}, token);
    await server.request('PATCH', `/organizations/${org.id}/customers/${customer.id}`, {
      token,
      body: { lastName: 'Other' },
    });
    await server.createCustomer(org.id, {}, token);

    await vi.waitFor(async () => expect((await subscriptionRow(org.id)).cursor_sequence).toBe(4), WAIT);
    expect(hook.requests.map((r) => [sequenceOf(r), (JSON.parse(r.text) as { event: string }).event])).toEqual([
      [3, 'customer.updated'],
    ]);
  });

  it('keeps sequence order under a burst of concurrent writes', async () => {
    const hook = await receiver();
    dispatcher();
    const { org, token } = await setup(`${hook.url}/burst`, ['customer.created']);
    const total = 60;
    await Promise.all(Array.from({ length: total }, () => server.createCustomer(org.id, {}, token)));

    await vi.waitFor(() => expect(hook.requests).toHaveLength(total), WAIT);
    expect(hook.requests.map(sequenceOf)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    const ids = (await feed(org.id, token)).map((e) => e.id);
    expect(hook.requests.map((r) => r.headers['x-event-id'])).toEqual(ids);
  });

  it('retries 500s with exponential backoff and holds later events back meanwhile', async () => {
    let failures = 0;
    const hook = await receiver((request) => (sequenceOf(request) === 1 && failures++ < 3 ? 500 : 200));
    dispatcher();
    const { org, token } = await setup(`${hook.url}/flaky`, ['customer.created']);
    await server.createCustomer(org.id, {}, token);
    await server.createCustomer(org.id, {}, token);

    await vi.waitFor(() => expect(hook.requests).toHaveLength(5), WAIT);
    expect(hook.requests.map(sequenceOf)).toEqual([1, 1, 1, 1, 2]);
    await vi.waitFor(async () => expect(await deliveries(org.id, token)).toHaveLength(5), WAIT);
    const attempts = await deliveries(org.id, token);
    expect(attempts.map((d) => [d.eventSequence, d.attempt, d.status, d.responseStatus])).toEqual([
      [1, 1, 'retrying', 500],
      [1, 2, 'retrying', 500],
      [1, 3, 'retrying', 500],
      [1, 4, 'succeeded', 200],
      [2, 1, 'succeeded', 200],
    ]);
    expect(attempts[0]!.error).toBe('HTTP 500: receiver says 500');
    for (let i = 0; i < 3; i++) {
      const attempt = attempts[i]!;
      const next = attempts[i + 1]!;
      // The recorded schedule is base * 2^(attempt-1) after the failed attempt, and no retry went out before it.
      expect(Date.parse(attempt.nextAttemptAt!) - Date.parse(attempt.attemptedAt)).toBe(RETRY_BASE_MS * 2 ** i);
      expect(hook.requests[i + 1]!.receivedAt).toBeGreaterThanOrEqual(Date.parse(attempt.nextAttemptAt!));
      expect(Date.parse(next.attemptedAt)).toBeGreaterThanOrEqual(Date.parse(attempt.nextAttemptAt!));
    }
    expect(hook.requests[4]!.receivedAt).toBeGreaterThanOrEqual(Date.parse(attempts[3]!.attemptedAt) - 1000);
    expect(Number(hook.requests.map((r) => r.headers['x-event-attempt']).join(''))).toBe(12341);
    expect(await subscriptionRow(org.id)).toMatchObject({ cursor_sequence: 2, attempts: 0, next_attempt_at: 0 });
  });

  it('treats no answer within the timeout as a failure and retries', async () => {
    const hook = await receiver((_request, index) => (index === 0 ? 'hang' : 200));
    dispatcher(server.store, { timeoutMs: TIMEOUT_MS });
    const { org, token } = await setup(`${hook.url}/slow`, ['customer.created']);
    await server.createCustomer(org.id, {}, token);

    await vi.waitFor(async () => expect(await deliveries(org.id, token)).toHaveLength(2), WAIT);
    const [timedOut, retried] = await deliveries(org.id, token);
    expect(timedOut).toMatchObject({ attempt: 1, status: 'retrying', error: `no response within ${TIMEOUT_MS} ms` });
    expect(timedOut!.responseStatus).toBeUndefined();
    expect(Date.parse(timedOut!.nextAttemptAt!) - Date.parse(timedOut!.attemptedAt)).toBe(RETRY_BASE_MS);
    expect(retried).toMatchObject({ attempt: 2, status: 'succeeded', responseStatus: 200 });
    expect(hook.requests.map(sequenceOf)).toEqual([1, 1]);
  });

  it('marks an event failed after the last attempt, moves on, and redelivers it on request', async () => {
    let healthy = false;
    const hook = await receiver((request) => (sequenceOf(request) === 1 && !healthy ? 503 : 200));
    dispatcher();
    const { org, token } = await setup(`${hook.url}/poison`, ['customer.created']);
    await server.createCustomer(org.id, {}, token);
    await server.createCustomer(org.id, {}, token);

    await vi.waitFor(async () => expect(await deliveries(org.id, token)).toHaveLength(MAX_ATTEMPTS + 1), WAIT);
    const attempts = await deliveries(org.id, token);
    expect(attempts.map((d) => [d.eventSequence, d.attempt, d.status])).toEqual([
      [1, 1, 'retrying'],
      [1, 2, 'retrying'],
      [1, 3, 'retrying'],
      [1, 4, 'failed'],
      [2, 1, 'succeeded'],
    ]);
    const failed = attempts[3]!;
    expect(failed.nextAttemptAt).toBeUndefined();
    expect(failed.responseStatus).toBe(503);
    expect(hook.requests.map(sequenceOf)).toEqual([1, 1, 1, 1, 2]);

    healthy = true;
    const retry = await server.request<WebhookReplay>(
      'POST',
      `/organizations/${org.id}/webhooks/hook/deliveries/${failed.id}/retry`,
      { token },
    );
    expect(retry.status).toBe(202);
    expect(retry.body).toMatchObject({ eventId: failed.eventId, eventSequence: 1, event: 'customer.created' });

    await vi.waitFor(() => expect(hook.requests).toHaveLength(6), WAIT);
    expect(hook.requests[5]!.headers['x-event-id']).toBe(failed.eventId);
    expect(hook.requests[5]!.text).toBe(hook.requests[0]!.text);
    await vi.waitFor(async () => expect(await deliveries(org.id, token)).toHaveLength(MAX_ATTEMPTS + 2), WAIT);
    const replayed = (await deliveries(org.id, token)).at(-1)!;
    expect(replayed).toMatchObject({
      eventSequence: 1,
      attempt: 1,
      status: 'succeeded',
      responseStatus: 200,
      replay: true,
    });
    expect(
      await server.store.db.selectFrom('webhook_replays').selectAll().where('organization_id', '=', org.id).execute(),
    ).toEqual([]);
    expect((await subscriptionRow(org.id)).cursor_sequence).toBe(2);
  });

  it('records a 4xx as rejected after exactly one attempt, moves on, and redelivers it on request', async () => {
    let accepting = false;
    const hook = await receiver((request) => (sequenceOf(request) === 1 && !accepting ? 400 : 200));
    const metrics = createMetrics(server.store);
    dispatcher(server.store, { onAttempt: (attempt) => metrics.webhookAttempt(attempt) });
    const { org, token } = await setup(`${hook.url}/picky`, ['customer.created']);
    await server.createCustomer(org.id, {}, token);
    await server.createCustomer(org.id, {}, token);

    await vi.waitFor(async () => expect(await deliveries(org.id, token)).toHaveLength(2), WAIT);
    const attempts = await deliveries(org.id, token);
    expect(attempts.map((d) => [d.eventSequence, d.attempt, d.status, d.responseStatus])).toEqual([
      [1, 1, 'rejected', 400],
      [2, 1, 'succeeded', 200],
    ]);
    const rejected = attempts[0]!;
    expect(rejected.error).toBe('HTTP 400: receiver says 400');
    expect(rejected.nextAttemptAt).toBeUndefined();
    expect(await subscriptionRow(org.id)).toMatchObject({ cursor_sequence: 2, attempts: 0 });
    // Well past where a retry would have gone out (RETRY_BASE_MS): still exactly one attempt at event 1.
    await new Promise((resolve) => setTimeout(resolve, RETRY_BASE_MS * 6));
    expect(hook.requests.map(sequenceOf)).toEqual([1, 2]);
    const subscription = (await subscriptionRow(org.id)).id;
    const figures = await metrics.render();
    expect(figures).toContain(`webhook_delivery_attempts_total{subscription="${subscription}"} 2`);
    expect(figures).toContain(`webhook_delivery_rejections_total{subscription="${subscription}"} 1`);
    expect(figures).not.toContain(`webhook_delivery_failures_total{subscription="${subscription}"}`);
    // The CLI lists the rejection with the receiver's status.
    const cli = await runCli(['webhooks', 'deliveries', '--org', org.id, '--ref', 'hook'], {
      DATABASE_URL: server.databaseUrl,
    });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toContain(
      `${rejected.id}  ${rejected.attemptedAt}  #1  customer.created  attempt 1  rejected  400`,
    );

    accepting = true;
    const retry = await server.request<WebhookReplay>(
      'POST',
      `/organizations/${org.id}/webhooks/hook/deliveries/${rejected.id}/retry`,
      { token },
    );
    expect(retry.status, retry.text).toBe(202);
    await vi.waitFor(() => expect(hook.requests).toHaveLength(3), WAIT);
    expect(hook.requests[2]!.headers['x-event-id']).toBe(rejected.eventId);
    expect(hook.requests[2]!.text).toBe(hook.requests[0]!.text);
    await vi.waitFor(async () => expect(await deliveries(org.id, token)).toHaveLength(3), WAIT);
    expect((await deliveries(org.id, token)).at(-1)).toMatchObject({
      eventSequence: 1,
      status: 'succeeded',
      responseStatus: 200,
      replay: true,
    });
  });

  it('records a redirect as rejected without following it or retrying', async () => {
    const hook = await receiver((request) => (sequenceOf(request) === 1 ? 302 : 200));
    dispatcher();
    const { org, token } = await setup(`${hook.url}/moved`, ['customer.created']);
    await server.createCustomer(org.id, {}, token);
    await server.createCustomer(org.id, {}, token);
    await vi.waitFor(async () => expect(await deliveries(org.id, token)).toHaveLength(2), WAIT);
    expect((await deliveries(org.id, token)).map((d) => [d.eventSequence, d.status, d.responseStatus])).toEqual([
      [1, 'rejected', 302],
      [2, 'succeeded', 200],
    ]);
    expect(hook.requests.map((r) => r.path)).toEqual(['/moved', '/moved']);
  });

  it('retries a refused connection (no response) until the attempts run out', async () => {
    // A port that was just listening and now refuses connections.
    const gone = await startReceiver();
    const { port } = gone;
    await gone.close();
    const metrics = createMetrics(server.store);
    dispatcher(server.store, { onAttempt: (attempt) => metrics.webhookAttempt(attempt) });
    const { org, token } = await setup(`http://127.0.0.1:${port}/gone`, ['customer.created']);
    await server.createCustomer(org.id, {}, token);
    await vi.waitFor(async () => expect(await deliveries(org.id, token)).toHaveLength(MAX_ATTEMPTS), WAIT);
    const attempts = await deliveries(org.id, token);
    expect(attempts.map((d) => [d.attempt, d.status])).toEqual([
      ...Array.from({ length: MAX_ATTEMPTS - 1 }, (_, i) => [i + 1, 'retrying']),
      [MAX_ATTEMPTS, 'failed'],
    ]);
    for (const attempt of attempts) {
      expect(attempt.responseStatus).toBeUndefined();
      expect(attempt.error).toMatch(/^ECONNREFUSED/);
    }
    const row = await subscriptionRow(org.id);
    expect(row).toMatchObject({ cursor_sequence: 1, attempts: 0 });
    const figures = await metrics.render();
    expect(figures).toContain(`webhook_delivery_failures_total{subscription="${row.id}"} ${MAX_ATTEMPTS}`);
    expect(figures).not.toContain(`webhook_delivery_rejections_total{subscription="${row.id}"}`);
  });

  it('refuses to redeliver an event the stream is still retrying (409)', async () => {
    const hook = await receiver(() => 500);
    const slow = dispatcher(server.store, { retryBaseMs: 600_000 });
    const { org, token } = await setup(`${hook.url}/stuck`, ['customer.created']);
    await server.createCustomer(org.id, {}, token);
    await vi.waitFor(async () => expect(await deliveries(org.id, token)).toHaveLength(1), WAIT);
    await slow.stop();
    const [pending] = await deliveries(org.id, token);
    expect(pending).toMatchObject({ status: 'retrying', attempt: 1 });

    const retry = await server.request<{ code: string }>(
      'POST',
      `/organizations/${org.id}/webhooks/hook/deliveries/${pending!.id}/retry`,
      { token },
    );
    expect(retry.status).toBe(409);
    expect(retry.body.code).toBe('conflict');
    expect(
      await server.store.db.selectFrom('webhook_replays').selectAll().where('organization_id', '=', org.id).execute(),
    ).toEqual([]);
    expect(await subscriptionRow(org.id)).toMatchObject({ cursor_sequence: 0, attempts: 1 });
  });

  it('checks the target again at delivery time, after DNS, and connects to the checked address', async () => {
    const hook = await receiver();
    const { org, token } = await setup('https://rebind.example.com/hook', ['customer.created']);
    // The name now resolves to loopback (DNS rebinding) and private targets are not allowed for this dispatcher.
    const strict = dispatcher(server.store, {
      allowPrivateUrls: false,
      resolve: fakeDns({ 'rebind.example.com': '127.0.0.1' }),
    });
    await server.createCustomer(org.id, {}, token);
    await vi.waitFor(async () => expect((await deliveries(org.id, token)).length).toBeGreaterThanOrEqual(1), WAIT);
    await strict.stop();
    const [refused] = await deliveries(org.id, token);
    expect(refused!.status).toBe('retrying');
    expect(refused!.error).toBe('refused: host resolves to a loopback address (127.0.0.1)');
    expect(refused!.responseStatus).toBeUndefined();
    expect((await server.request('DELETE', `/organizations/${org.id}/webhooks/hook`, { token })).status).toBe(204);

    const pinned = await setup(`http://receiver.test:${hook.port}/pinned`, ['customer.created'], 'pinned');
    dispatcher(server.store, { allowPrivateUrls: true, resolve: fakeDns({ 'receiver.test': '127.0.0.1' }) });
    await server.createCustomer(pinned.org.id, {}, pinned.token);
    // receiver.test exists in no real DNS: the request can only have reached the receiver through the checked address.
    await vi.waitFor(() => expect(hook.on('/pinned')).toHaveLength(1), WAIT);
    expect(hook.on('/pinned')[0]!.headers.host).toBe(`receiver.test:${hook.port}`);
    expect(hook.requests.every((r) => r.path === '/pinned')).toBe(true);
  });

  it('loses nothing when the dispatcher restarts in the middle of a backlog', async () => {
    let gate: (() => void) | undefined;
    const gated = new Promise<void>((resolve) => {
      gate = resolve;
    });
    const hook = await receiver(async (_request, index) => {
      if (index === 4) await gated;
      return 200;
    });
    const total = 30;
    const { org, token } = await setup(`${hook.url}/backlog`, ['customer.created']);
    for (let i = 0; i < total; i++) await server.createCustomer(org.id, {}, token);

    const first = dispatcher();
    await vi.waitFor(() => expect(hook.requests).toHaveLength(5), WAIT);
    const stopping = first.stop();
    gate!();
    await stopping;
    expect(hook.requests).toHaveLength(5);
    expect((await subscriptionRow(org.id)).cursor_sequence).toBe(5);
    expect((await subscriptionRow(org.id)).lease_owner).toBeNull();

    // A new process: its own connection to the same database, nothing carried over in memory.
    const store = await openStore(parseDatabaseUrl(server.databaseUrl));
    cleanups.push(() => store.close());
    dispatcher(store);
    await vi.waitFor(() => expect(hook.requests).toHaveLength(total), WAIT);
    expect(hook.requests.map(sequenceOf)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });

  it('takes over the subscriptions of a dispatcher that died holding them once the lease expires', async () => {
    const hook = await receiver();
    const { org, token } = await setup(`${hook.url}/orphan`, ['customer.created']);
    for (let i = 0; i < 3; i++) await server.createCustomer(org.id, {}, token);
    const claimed = await claimSubscriptions(server.store, 'crashed-process', Date.now(), 500, 100);
    const orphan = claimed.find((row) => row.organization_id === org.id);
    expect(orphan?.lease_owner).toBe('crashed-process');

    dispatcher(server.store, { leaseMs: 500 });
    await vi.waitFor(() => expect(hook.requests).toHaveLength(3), WAIT);
    expect(hook.requests.map(sequenceOf)).toEqual([1, 2, 3]);
    expect(hook.requests[0]!.receivedAt).toBeGreaterThanOrEqual(orphan!.lease_until!);
  });

  it('never delivers an event twice with two dispatchers on one database', async () => {
    const hook = await receiver(async () => {
      await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 4)));
      return 200;
    });
    const org = await server.createOrganization();
    const token = await server.createToken([org.id], ['webhooks:manage', 'customers:write']);
    const refs = ['s0', 's1', 's2', 's3', 's4', 's5'];
    for (const ref of refs) {
      const put = await server.request('PUT', `/organizations/${org.id}/webhooks/${ref}`, {
        token,
        body: { url: `${hook.url}/${ref}`, secret: SECRET, events: ['customer.created'] },
      });
      expect(put.status).toBe(201);
    }
    const store = await openStore(parseDatabaseUrl(server.databaseUrl));
    cleanups.push(() => store.close());
    dispatcher(server.store, { concurrency: 3, batchSize: 5, owner: 'dispatcher-a' });
    dispatcher(store, { concurrency: 3, batchSize: 5, owner: 'dispatcher-b' });

    const total = 40;
    for (let burst = 0; burst < 4; burst++) {
      await Promise.all(Array.from({ length: total / 4 }, () => server.createCustomer(org.id, {}, token)));
    }
    await vi.waitFor(() => expect(hook.requests).toHaveLength(total * refs.length), WAIT);
    for (const ref of refs) {
      expect(hook.on(`/${ref}`).map(sequenceOf)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    }
    const recordedRows = () =>
      server.store.db
        .selectFrom('webhook_deliveries')
        .select(['subscription_id', 'event_sequence', 'status', 'attempt'])
        .where('organization_id', '=', org.id)
        .execute();
    // A receiver sees the request just before the dispatcher records it.
    await vi.waitFor(async () => expect(await recordedRows()).toHaveLength(total * refs.length), WAIT);
    const recorded = await recordedRows();
    expect(new Set(recorded.map((r) => `${r.subscription_id}/${r.event_sequence}`)).size).toBe(total * refs.length);
    expect(recorded.every((r) => r.status === 'succeeded' && r.attempt === 1)).toBe(true);
  });

  it('prunes attempts older than the retention when it starts', async () => {
    const hook = await receiver();
    const { org, token } = await setup(`${hook.url}/history`, ['customer.created']);
    const { id: subscriptionId } = await subscriptionRow(org.id);
    const now = Date.now();
    const row = (id: string, ageMs: number) => ({
      organization_id: org.id,
      id,
      subscription_id: subscriptionId,
      event_sequence: 1,
      event_id: '01JOLDEVENT000000000000000',
      event_type: 'customer.created',
      attempt: 1,
      status: 'failed',
      response_status: 500,
      error: 'HTTP 500',
      duration_ms: 1,
      next_attempt_at: null,
      replay: 0,
      created_at: now - ageMs,
    });
    await server.store.db
      .insertInto('webhook_deliveries')
      .values([
        row('01JOLD00000000000000000001', 3_600_000),
        row('01JOLD00000000000000000002', 7_200_000),
        row('01JNEW00000000000000000001', 1_000),
      ])
      .execute();

    const started = dispatcher(server.store, { deliveryRetentionMs: 60_000 });
    await server.createCustomer(org.id, {}, token);
    await vi.waitFor(() => expect(hook.requests).toHaveLength(1), WAIT);
    await started.stop();
    const kept = await deliveries(org.id, token);
    expect(kept.map((d) => d.id)).toContain('01JNEW00000000000000000001');
    expect(kept.map((d) => d.id)).not.toContain('01JOLD00000000000000000001');
    expect(kept.map((d) => d.id)).not.toContain('01JOLD00000000000000000002');
    expect(kept).toHaveLength(2);
  });

  it('runs the dispatcher inside startServer and stops it on close', async () => {
    const hook = await receiver();
    const database = await backend.createDatabase();
    cleanups.push(() => database.drop());
    const config = loadConfig({
      LOG_LEVEL: 'silent',
      DATABASE_URL: database.url,
      PORT: '0',
      WEBHOOKS_ALLOW_PRIVATE_URLS: 'true',
      WEBHOOK_POLL_INTERVAL_MS: '50',
    });
    const running = await startServer(config);
    try {
      expect(running.dispatcher).toBeDefined();
      const org = await running.services.organizations.createOrganization({ name: 'Served' });
      const { token } = await running.services.tokens.createToken({
        organizationIds: [org.id],
        scopes: ['webhooks:manage', 'customers:write'],
      });
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const put = await fetch(`${running.url}/organizations/${org.id}/webhooks/live`, {
        method: 'PUT',
        headers,
        body: JSON.stringify({ url: `${hook.url}/live`, secret: SECRET, events: ['customer.created'] }),
      });
      expect(put.status).toBe(201);
      const created = await fetch(`${running.url}/organizations/${org.id}/customers`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ firstName: 'Live', lastName: 'Customer' }),
      });
      expect(created.status).toBe(201);
      await vi.waitFor(() => expect(hook.on('/live')).toHaveLength(1), WAIT);
      expect(JSON.parse(hook.on('/live')[0]!.text)).toMatchObject({
        event: 'customer.created',
        customer: { firstName: 'Live' },
        organization: { id: org.id, name: org.name },
      });
    } finally {
      await running.close();
    }
  });
});
