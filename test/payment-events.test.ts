import { Value } from '@sinclair/typebox/value';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { verifyWebhookSignature } from '../src/client/webhooks.js';
import { CustomerTinySchema } from '../src/contract/customers.js';
import type { FeedEvent } from '../src/contract/events.js';
import { LocationTinySchema, type Location } from '../src/contract/locations.js';
import { OrganizationTinySchema } from '../src/contract/organizations.js';
import {
  PaymentEventSchema,
  PaymentItemChoiceSchema,
  PaymentItemOptionSchema,
  PaymentItemSchema,
  PaymentSchema,
  type Payment,
} from '../src/contract/payments.js';
import { describeEachBackend } from './helpers/backends.js';
import { readEvents } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { startReceiver, type WebhookReceiver } from './helpers/webhook-receiver.js';
import { startDispatcher } from './helpers/webhooks.js';

const SECRET = 'payments-shared-secret';
const WAIT = { timeout: 20_000, interval: 20 };
const REFERENCED = [
  CustomerTinySchema,
  LocationTinySchema,
  OrganizationTinySchema,
  PaymentItemChoiceSchema,
  PaymentItemOptionSchema,
  PaymentItemSchema,
  PaymentSchema,
];

await describeEachBackend('payment events', (backend) => {
  let server: TestServer;
  let hook: WebhookReceiver;
  let stop: (() => Promise<void>) | undefined;
  beforeAll(async () => {
    server = await startTestServer(backend, { WEBHOOKS_ALLOW_PRIVATE_URLS: 'true' });
  });
  afterEach(async () => {
    await stop?.();
    stop = undefined;
    await hook?.close();
  });
  afterAll(async () => server?.close());

  async function tenant(events: string[]) {
    const org = await server.createOrganization('Payments Pty Ltd');
    const token = await server.createToken([org.id], ['webhooks:manage', 'customers:read', 'customers:write']);
    hook = await startReceiver();
    const dispatcher = startDispatcher(server.store, server.config, { timeoutMs: 10_000 });
    stop = () => dispatcher.stop();
    const put = await server.request('PUT', `/organizations/${org.id}/webhooks/payments`, {
      token,
      body: { url: `${hook.url}/payments`, secret: SECRET, events },
    });
    expect(put.status, put.text).toBe(201);
    return { org, token };
  }

  it('delivers payment.completed and payment.refunded signed, with LOKE payload, in the feed too', async () => {
    const { org, token } = await tenant(['payment.completed', 'payment.refunded']);
    const venue = (
      await server.request<Location>('POST', `/organizations/${org.id}/locations`, {
        token,
        body: { name: 'Richmond' },
      })
    ).body;
    const customer = await server.createCustomer(
      org.id,
      { firstName: 'John', lastName: 'Smith', email: 'john@example.com' },
      token,
    );
    const recorded = await server.request<Payment>('PUT', `/organizations/${org.id}/payments/pay-1`, {
      token,
      body: {
        billingType: 'order/pickup',
        chargedAmount: 600,
        customerId: customer.id,
        locationId: venue.id,
        items: [{ id: 'FOOD001', name: 'Coffee', amount: 300, quantity: 2 }],
      },
    });
    expect(recorded.status).toBe(201);
    const refunded = await server.request<Payment>('POST', `/organizations/${org.id}/payments/pay-1/refund`, {
      token,
      body: { amount: 100 },
    });
    expect(refunded.status).toBe(200);
    // Without a location (the spend alias): the payload has no location.
    const spend = await server.request('PUT', `/organizations/${org.id}/customers/${customer.id}/spend/sale-1`, {
      token,
      body: { amount: 250 },
    });
    expect(spend.status).toBe(204);

    await vi.waitFor(() => expect(hook.requests).toHaveLength(3), WAIT);
    const feed = (await readEvents(server, org.id, token)).filter((e) => e.event.startsWith('payment.'));
    expect(feed.map((e) => e.event)).toEqual(['payment.completed', 'payment.refunded', 'payment.completed']);
    const organization = { id: org.id, name: 'Payments Pty Ltd' };
    expect(feed[0]).toMatchObject({
      event: 'payment.completed',
      payment: { ...recorded.body, updatedAt: recorded.body.updatedAt },
      location: { id: venue.id, name: 'Richmond' },
      organization,
    });
    expect(feed[1]).toMatchObject({
      event: 'payment.refunded',
      payment: refunded.body,
      location: { id: venue.id, name: 'Richmond' },
      organization,
    });
    expect(feed[2]!.location).toBeUndefined();
    expect(feed[2]!.payment).toMatchObject({ billingType: 'external', externalAmount: 250, chargedAmount: 0 });

    hook.requests.forEach((request, i) => {
      const { id, sequence, occurredAt: _occurredAt, ...payload } = feed[i] as FeedEvent;
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/payments');
      expect(request.headers['x-event-id']).toBe(id);
      expect(request.headers['x-event-sequence']).toBe(String(sequence));
      expect(verifyWebhookSignature(request.body, request.headers['x-event-signature'] as string, SECRET)).toBe(true);
      expect(verifyWebhookSignature(request.body, request.headers['x-event-signature'] as string, 'wrong')).toBe(false);
      const body = JSON.parse(request.text) as Record<string, unknown>;
      expect(body).toEqual(payload);
      expect(Value.Check(PaymentEventSchema, REFERENCED, body), request.text).toBe(true);
      // As delivered: LOKE's order (event, payment, location, organization), the payment's keys alphabetical.
      expect(Object.keys(body)).toEqual(
        i === 2 ? ['event', 'payment', 'organization'] : ['event', 'payment', 'location', 'organization'],
      );
      const sent = body.payment as Record<string, unknown>;
      expect(Object.keys(sent)).toEqual([...Object.keys(sent)].sort());
    });
    // The statistics event is not subscribed to, so only the payment events were delivered.
    expect(hook.requests.map((r) => (JSON.parse(r.text) as { event: string }).event)).toEqual([
      'payment.completed',
      'payment.refunded',
      'payment.completed',
    ]);
  });

  it('writes no event for a refused payment or refund, and scrubs the customer from payment events on erasure', async () => {
    const { org, token } = await tenant(['payment.completed']);
    const customer = await server.createCustomer(
      org.id,
      { firstName: 'Erin', lastName: 'Erased', email: 'erin@example.com', phoneNumber: '+61411999888' },
      token,
    );
    const before = (await readEvents(server, org.id, token)).length;
    for (const body of [
      { billingType: 'tab', chargedAmount: 5, locationId: 'nope' },
      { billingType: 'tab', chargedAmount: 5, currency: 'USD' },
    ]) {
      expect((await server.request('PUT', `/organizations/${org.id}/payments/p-x`, { token, body })).status).toBe(400);
    }
    expect((await server.request('POST', `/organizations/${org.id}/payments/p-x/refund`, { token })).status).toBe(404);
    expect(await readEvents(server, org.id, token)).toHaveLength(before);

    const put = await server.request('PUT', `/organizations/${org.id}/payments/p-1`, {
      token,
      body: { billingType: 'tab', chargedAmount: 5, customerId: customer.id },
    });
    expect(put.status).toBe(201);
    await vi.waitFor(() => expect(hook.requests).toHaveLength(1), WAIT);
    expect(hook.requests[0]!.text).toContain('erin@example.com');
    expect(
      (await server.request('DELETE', `/organizations/${org.id}/customers/${customer.id}`, { token })).status,
    ).toBe(204);
    const events = await readEvents(server, org.id, token);
    const completed = events.find((e) => e.event === 'payment.completed')!;
    expect((completed.payment as Payment).customer).toEqual({ id: customer.id });
    expect(completed.customer).toBeUndefined();
    expect(JSON.stringify(events)).not.toMatch(/Erin|Erased|erin@|61411999888/);
  });
});
