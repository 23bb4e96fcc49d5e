import { Type, type Static } from '@sinclair/typebox';
import { OrganizationTinySchema } from './organizations.js';

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

export const FeedEventSchema = Type.Object(
  {
    id: Type.String({ description: 'ULID of the event' }),
    sequence: Type.Integer({
      description: 'Position in the organization feed: strictly increasing in commit order, without gaps',
    }),
    occurredAt: Type.String({ description: 'Commit time of the write', examples: ['2021-08-23T02:06:24.000Z'] }),
    event: Type.String({ description: 'Event type', examples: ['customer.created'] }),
    organization: Type.Ref(OrganizationTinySchema),
  },
  {
    $id: 'FeedEvent',
    title: 'FeedEvent',
    additionalProperties: true,
    description:
      "An event of the change feed: the webhook payload ({event, ...body, organization}, organization being LOKE's OrganizationTiny) plus id, sequence and occurredAt.",
    'x-extension': true,
  },
);
export type FeedEvent = Static<typeof FeedEventSchema> & Record<string, unknown>;
