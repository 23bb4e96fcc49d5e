import { describe, expect, it } from 'vitest';
import type { CustomerRow } from '../../store/repositories/customer-repository.js';
import { customerStatisticsUpdated, eventPayload, membershipChanged, scrubEventPayload } from './event-log.js';

const row: CustomerRow = {
  organization_id: 'org',
  id: 'c1',
  first_name: 'Ann',
  last_name: 'Lee',
  email: 'ann@example.com',
  email_normalized: 'ann@example.com',
  phone_number: '+61411222333',
  dob: '1990-01-02',
  gender: 'FEMALE',
  has_agreed_to_marketing: 1,
  created_at: Date.UTC(2021, 0, 1),
  updated_at: Date.UTC(2021, 0, 2),
  points_balance: 5,
  total_points_earned: 5,
  total_points_redeemed: 0,
  total_spend: 0,
  last_points_earned_at: Date.UTC(2021, 0, 2),
  last_points_redeemed_at: null,
  last_spent_at: null,
  metadata: null,
};

const ORG = { id: 'org', name: 'Acme' };

describe('event payloads', () => {
  it('puts event first and organization last, LOKE style', () => {
    const payload = eventPayload(ORG, customerStatisticsUpdated(row));
    expect(Object.keys(payload)).toEqual(['event', 'statistics', 'customer', 'organization']);
    expect(payload).toEqual({
      event: 'customer.updated-statistics',
      statistics: {
        lastPointsEarnedAt: '2021-01-02T00:00:00.000Z',
        pointsBalance: 5,
        totalPointsEarned: 5,
        totalPointsRedeemed: 0,
        totalSpend: 0,
      },
      customer: { email: 'ann@example.com', firstName: 'Ann', id: 'c1', lastName: 'Lee', phoneNumber: '+61411222333' },
      organization: { id: 'org', name: 'Acme' },
    });
    expect(Object.keys(payload.organization as object)).toEqual(['id', 'name']);
  });

  it('scrubs the customer down to its id and keeps the rest', () => {
    const stored = JSON.stringify(
      eventPayload(ORG, membershipChanged('customer-list.member-added', { id: 'l1', name: 'VIP' }, row)),
    );
    const scrubbed = scrubEventPayload(stored, 'c1');
    expect(JSON.parse(scrubbed)).toEqual({
      event: 'customer-list.member-added',
      customerList: { id: 'l1', name: 'VIP' },
      customer: { id: 'c1' },
      organization: { id: 'org', name: 'Acme' },
    });
    expect(scrubbed).not.toMatch(/Ann|Lee|example|61411/);
  });
});
