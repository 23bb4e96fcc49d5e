// The event types alone, without TypeBox, so that the browser console can import them and stay small.

/**
 * Every event type the log holds. The `customer-list.created|updated|deleted`
 * types are our extension: a list deletion also ends all of its memberships
 * (no per-member events are written for it), and `customer.deleted` ends all
 * of that customer's memberships. `payment.completed|refunded` carry LOKE's
 * `{event, payment, location, organization}` (contract/payments.ts).
 */
export const EVENT_TYPES = [
  'customer.created',
  'customer.updated',
  'customer.updated-statistics',
  'customer.deleted',
  'customer-list.created',
  'customer-list.updated',
  'customer-list.deleted',
  'customer-list.member-added',
  'customer-list.member-removed',
  'payment.completed',
  'payment.refunded',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The orders the feed is read in (`order`, extension): `oldest` first (the default, for consumers) or `newest`. */
export const EVENT_ORDERS = ['oldest', 'newest'] as const;
export type EventOrder = (typeof EVENT_ORDERS)[number];
