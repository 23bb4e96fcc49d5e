import { describe, expect, it } from 'vitest';
import type { FeedEvent } from '../../../src/client/index.js';
import { profileChanges, timelineEntries } from './timeline.js';

const organization = { id: 'org', name: 'Org' };
let sequence = 0;
/** A feed event as the server stores it: `{event, ...body, organization}` plus id, sequence and occurredAt. */
const event = (type: string, at: string, body: Record<string, unknown>): FeedEvent => ({
  id: `E${++sequence}`,
  sequence,
  occurredAt: at,
  event: type,
  ...body,
  organization,
});

const stats = (pointsBalance: number, totalPointsEarned: number, totalPointsRedeemed: number, totalSpend = 0) => ({
  pointsBalance,
  totalPointsEarned,
  totalPointsRedeemed,
  totalSpend,
});
const customer = (fields: Record<string, unknown>, statistics = stats(0, 0, 0)) => ({
  customer: { id: 'C1', firstName: 'Zelda', lastName: 'Quixote', createdAt: 't0', ...fields, statistics },
});
const tiny = { customer: { id: 'C1', firstName: 'Zelda', lastName: 'Quixote' } };
const vip = { customerList: { id: 'L1', name: 'VIP' } };

/** Newest first, as GET /events?customerId=&order=newest serves them. */
const newestFirst = (...events: FeedEvent[]) => [...events].reverse();

describe('customer timeline from the feed (timelineEntries)', () => {
  it('turns each kind of event into a line, newest first, with profile fields diffed against the older payload', () => {
    const events = newestFirst(
      event('customer.created', '2026-01-01T00:00:00.000Z', customer({ email: 'zelda@old.example' })),
      event(
        'customer.updated',
        '2026-01-02T00:00:00.000Z',
        customer({ email: 'zelda@new.example', hasAgreedToMarketing: true, metadata: { tier: 'gold' } }),
      ),
      event('customer.updated-statistics', '2026-01-03T00:00:00.000Z', { statistics: stats(250, 250, 0), ...tiny }),
      event('customer.updated-statistics', '2026-01-04T00:00:00.000Z', { statistics: stats(200, 250, 50), ...tiny }),
      event('customer.updated-statistics', '2026-01-05T00:00:00.000Z', { statistics: stats(250, 250, 0), ...tiny }),
      event('customer.updated-statistics', '2026-01-06T00:00:00.000Z', { statistics: stats(0, 0, 0), ...tiny }),
      event('customer-list.member-added', '2026-01-07T00:00:00.000Z', { ...vip, ...tiny }),
      event('customer-list.member-removed', '2026-01-08T00:00:00.000Z', { ...vip, ...tiny }),
      event('payment.completed', '2026-01-09T00:00:00.000Z', {
        payment: { id: 'P1', chargedAmount: 1200, externalAmount: 300, currency: 'AUD', customer: tiny.customer },
        location: { id: 'LOC', name: 'Bondi' },
      }),
      // The payment's statistics event moves only the spend: the payment line says it already.
      event('customer.updated-statistics', '2026-01-09T00:00:00.000Z', { statistics: stats(0, 0, 0, 1500), ...tiny }),
      event('payment.refunded', '2026-01-10T00:00:00.000Z', {
        payment: { id: 'P1', chargedAmount: 1200, externalAmount: 300, refundedAmount: 500, currency: 'AUD' },
      }),
      event('customer.deleted', '2026-01-11T00:00:00.000Z', { customer: { id: 'C1' } }),
    );
    const entries = timelineEntries(events, { complete: true, currency: 'AUD' });
    expect(entries.map(({ kind, title }) => `${kind}: ${title}`)).toEqual([
      'erased: Customer erased',
      'payment: Payment refunded: $5.00 of $15.00',
      'payment: Paid $15.00',
      'list: Removed from list VIP',
      'list: Added to list VIP',
      'points: Earning of 250 points reversed',
      'points: Redemption of 50 points reversed',
      'points: Redeemed 50 points',
      'points: Earned 250 points',
      'profile: Profile changed',
      'created: Customer created',
    ]);
    const spendOnly = (e: FeedEvent) =>
      e.event === 'customer.updated-statistics' && e.occurredAt.startsWith('2026-01-09');
    expect(entries.map((entry) => entry.at)).toEqual(events.filter((e) => !spendOnly(e)).map((e) => e.occurredAt));
    expect(entries.find((entry) => entry.title === 'Paid $15.00')?.detail).toBe('at Bondi');
    expect(entries.find((entry) => entry.kind === 'profile')?.changes).toEqual([
      { field: 'email', label: 'Email', from: 'zelda@old.example', to: 'zelda@new.example' },
      { field: 'hasAgreedToMarketing', label: 'Agreed to marketing', from: '—', to: 'Yes' },
      { field: 'metadata.tier', label: 'Metadata tier', from: '—', to: 'gold' },
    ]);
    expect(entries.find((entry) => entry.title === 'Redeemed 50 points')?.changes).toEqual([
      { field: 'pointsBalance', label: 'Points balance', from: '250', to: '200' },
      { field: 'totalPointsRedeemed', label: 'Points redeemed', from: '0', to: '50' },
    ]);
    expect(new Set(entries.map((entry) => entry.id)).size).toBe(entries.length);
  });

  it('diffs each profile change against the next older customer payload, not the first', () => {
    const entries = timelineEntries(
      newestFirst(
        event('customer.created', 'a', customer({ email: 'a@example.com', lastName: 'One' })),
        event('customer.updated', 'b', customer({ email: 'b@example.com', lastName: 'One' })),
        event(
          'customer.updated',
          'c',
          customer({ email: 'b@example.com', lastName: 'Two', phoneNumber: '+61400000000' }),
        ),
        event('customer.updated', 'd', customer({ email: 'b@example.com', lastName: 'Two' })),
      ),
      { complete: true },
    );
    expect(entries.map((entry) => entry.changes)).toEqual([
      [{ field: 'phoneNumber', label: 'Phone number', from: '+61400000000', to: '—' }],
      [
        { field: 'lastName', label: 'Last name', from: 'One', to: 'Two' },
        { field: 'phoneNumber', label: 'Phone number', from: '—', to: '+61400000000' },
      ],
      [{ field: 'email', label: 'Email', from: 'a@example.com', to: 'b@example.com' }],
      undefined,
    ]);
  });

  it('takes the points baseline from a customer payload of an earlier write (demo data has no statistics events)', () => {
    const entries = timelineEntries(
      newestFirst(
        event('customer.created', 'a', customer({}, stats(1000, 1200, 200))),
        event('customer.updated-statistics', 'b', { statistics: stats(1250, 1450, 200), ...tiny }),
      ),
      { complete: true },
    );
    expect(entries[0]).toMatchObject({ title: 'Earned 250 points', changes: expect.arrayContaining([]) as unknown });
    expect(entries[0]!.changes![0]).toEqual({
      field: 'pointsBalance',
      label: 'Points balance',
      from: '1,000',
      to: '1,250',
    });
  });

  it('does not take the baseline from a customer payload of the same write (an import writes both at new values)', () => {
    const entries = timelineEntries(
      newestFirst(
        event('customer.created', 'a', customer({})),
        event('customer.updated-statistics', 'b', { statistics: stats(10, 10, 0), ...tiny }),
        // One import row: the customer (statistics already new) and its statistics event, at one write time.
        event('customer.updated', 'c', customer({ lastName: 'Imported' }, stats(500, 600, 100))),
        event('customer.updated-statistics', 'c', { statistics: stats(500, 600, 100), ...tiny }),
      ),
      { complete: true },
    );
    expect(entries.map((entry) => entry.title)).toEqual([
      'Points changed',
      'Profile changed',
      'Earned 10 points',
      'Customer created',
    ]);
    expect(entries[0]!.changes).toEqual([
      { field: 'pointsBalance', label: 'Points balance', from: '10', to: '500' },
      { field: 'totalPointsEarned', label: 'Points earned', from: '10', to: '600' },
      { field: 'totalPointsRedeemed', label: 'Points redeemed', from: '0', to: '100' },
    ]);
  });

  it('says when the older events that tell what changed are not loaded yet, and starts from zero when complete', () => {
    const page = newestFirst(
      event('customer.updated', 'b', customer({ email: 'b@example.com' })),
      event('customer.updated-statistics', 'c', { statistics: stats(40, 40, 0), ...tiny }),
    );
    const partial = timelineEntries(page, { complete: false });
    expect(partial[1]).toMatchObject({ title: 'Profile changed', detail: 'Show more to see which fields changed.' });
    expect(partial[1]!.changes).toBeUndefined();
    // The profile payload carries statistics: the points change has a baseline even on a partial page.
    expect(partial[0]).toMatchObject({ title: 'Earned 40 points' });

    const statisticsOnly = timelineEntries(
      [event('customer.updated-statistics', 'd', { statistics: stats(70, 90, 20), ...tiny })],
      { complete: false },
    );
    expect(statisticsOnly[0]).toMatchObject({ title: 'Points changed', detail: 'Show more to see the change.' });
    expect(
      timelineEntries([event('customer.updated-statistics', 'd', { statistics: stats(70, 70, 0), ...tiny })], {
        complete: true,
      })[0],
    ).toMatchObject({ title: 'Earned 70 points' });
  });

  it("copes with an erased customer's scrubbed payloads and events it does not show", () => {
    const entries = timelineEntries(
      newestFirst(
        event('customer.created', 'a', { customer: { id: 'C1' } }),
        event('customer.updated', 'b', { customer: { id: 'C1' } }),
        event('customer-list.member-added', 'c', { customerList: { id: 'L9' }, customer: { id: 'C1' } }),
        event('customer-list.updated', 'd', vip),
        event('customer.deleted', 'e', { customer: { id: 'C1' } }),
      ),
      { complete: true },
    );
    expect(entries.map((entry) => entry.title)).toEqual([
      'Customer erased',
      'Added to list L9',
      'Profile changed',
      'Customer created',
    ]);
    expect(timelineEntries([], { complete: true })).toEqual([]);
  });

  it('lists nested values key by key and other values as JSON', () => {
    expect(
      profileChanges({ metadata: { a: '1', b: '2' } }, { metadata: { b: '3', c: '4' }, dob: '1990-01-02' }),
    ).toEqual([
      { field: 'dob', label: 'Date of birth', from: '—', to: '1990-01-02' },
      { field: 'metadata.a', label: 'Metadata a', from: '1', to: '—' },
      { field: 'metadata.b', label: 'Metadata b', from: '2', to: '3' },
      { field: 'metadata.c', label: 'Metadata c', from: '—', to: '4' },
    ]);
    expect(profileChanges({ updatedAt: 'x', statistics: {} }, { updatedAt: 'y', statistics: { a: 1 } })).toEqual([]);
  });
});
