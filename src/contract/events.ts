import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from './common.js';
import { CustomerListTinySchema, CustomerSchema, CustomerStatisticsSchema, CustomerTinySchema } from './customers.js';
import { OrganizationTinySchema } from './organizations.js';
import { EVENT_ORDERS, EVENT_TYPES, type EventOrder, type EventType } from './event-types.js';

export { EVENT_ORDERS, EVENT_TYPES, type EventOrder, type EventType };

export const FeedEventSchema = Type.Object(
  {
    id: Type.String({ description: 'ULID of the event' }),
    sequence: Type.Integer({
      description: 'Position in the organization feed: strictly increasing in commit order, without gaps',
    }),
    occurredAt: Type.String({
      format: 'date-time',
      description: 'Commit time of the write',
      examples: ['2021-08-23T02:06:24.000Z'],
    }),
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

/*
 * The webhook payloads (the feed adds id, sequence and occurredAt), keys in LOKE's order: `event`, the body,
 * `organization`. Documentation only (the OpenAPI document's webhooks): payloads are stored and sent as written.
 */
const organization = Type.Ref(OrganizationTinySchema);

export const CustomerEventSchema = Type.Object(
  {
    event: StringEnum(['customer.created', 'customer.updated']),
    customer: Type.Ref(CustomerSchema),
    organization,
  },
  { $id: 'CustomerEvent', title: 'CustomerEvent' },
);

export const CustomerStatisticsEventSchema = Type.Object(
  {
    event: StringEnum(['customer.updated-statistics']),
    statistics: Type.Ref(CustomerStatisticsSchema),
    customer: Type.Ref(CustomerTinySchema),
    organization,
  },
  { $id: 'CustomerStatisticsEvent', title: 'CustomerStatisticsEvent' },
);

export const CustomerDeletedEventSchema = Type.Object(
  {
    event: StringEnum(['customer.deleted']),
    customer: Type.Object({ id: Type.String() }, { description: 'Only the id: the customer was erased' }),
    organization,
  },
  { $id: 'CustomerDeletedEvent', title: 'CustomerDeletedEvent' },
);

export const CustomerListEventSchema = Type.Object(
  {
    event: StringEnum(['customer-list.created', 'customer-list.updated', 'customer-list.deleted']),
    customerList: Type.Ref(CustomerListTinySchema),
    organization,
  },
  { $id: 'CustomerListEvent', title: 'CustomerListEvent', 'x-extension': true },
);

export const CustomerListMemberEventSchema = Type.Object(
  {
    event: StringEnum(['customer-list.member-added', 'customer-list.member-removed']),
    customerList: Type.Ref(CustomerListTinySchema),
    customer: Type.Ref(CustomerTinySchema),
    organization,
  },
  { $id: 'CustomerListMemberEvent', title: 'CustomerListMemberEvent' },
);

/** The payload schema ($id) each event type is delivered with. */
export const EVENT_PAYLOAD_SCHEMAS: Record<EventType, string> = {
  'customer.created': 'CustomerEvent',
  'customer.updated': 'CustomerEvent',
  'customer.updated-statistics': 'CustomerStatisticsEvent',
  'customer.deleted': 'CustomerDeletedEvent',
  'customer-list.created': 'CustomerListEvent',
  'customer-list.updated': 'CustomerListEvent',
  'customer-list.deleted': 'CustomerListEvent',
  'customer-list.member-added': 'CustomerListMemberEvent',
  'customer-list.member-removed': 'CustomerListMemberEvent',
  'payment.completed': 'PaymentEvent',
  'payment.refunded': 'PaymentEvent',
};
