import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from './common.js';
import { EVENT_TYPES } from './events.js';

export const MAX_WEBHOOK_URL_LENGTH = 2048;

export const WebhookEventNameSchema = StringEnum(EVENT_TYPES, { description: 'An event type of the change feed' });

export const WebhookRefSchema = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: '^[A-Za-z0-9._~:-]+$',
  description: "The client's name for the subscription: letters, digits and . _ ~ : -",
});

export const PutWebhookBodySchema = Type.Object(
  {
    url: Type.String({
      format: 'uri',
      pattern: '^[Hh][Tt][Tt][Pp][Ss]?://',
      minLength: 1,
      maxLength: MAX_WEBHOOK_URL_LENGTH,
      examples: ['https://hooks.example.com/customers'],
      description:
        'https URL that receives the POSTs; it must not resolve to a loopback, private, link-local or metadata address.',
    }),
    secret: Type.String({
      minLength: 1,
      maxLength: 512,
      description: 'Key of the HMAC-SHA256 in X-Event-Signature; never returned.',
    }),
    events: Type.Array(WebhookEventNameSchema, { minItems: 1, maxItems: EVENT_TYPES.length, uniqueItems: true }),
  },
  { additionalProperties: false },
);
export type PutWebhookBody = Static<typeof PutWebhookBodySchema>;

export const WebhookSchema = Type.Object(
  {
    ref: Type.String(),
    url: Type.String(),
    events: Type.Array(Type.String()),
  },
  { $id: 'Webhook', title: 'Webhook' },
);
export type Webhook = Static<typeof WebhookSchema>;

export const DELIVERY_STATUSES = ['succeeded', 'rejected', 'retrying', 'failed'] as const;

export const WebhookDeliverySchema = Type.Object(
  {
    id: Type.String({ description: 'ULID of this attempt' }),
    eventId: Type.String(),
    eventSequence: Type.Integer(),
    event: Type.String({ description: 'Event type' }),
    attempt: Type.Integer({ description: 'Attempt number for this event, from 1' }),
    status: StringEnum(DELIVERY_STATUSES, {
      description:
        'succeeded: the receiver answered 2xx; rejected: it answered 3xx or 4xx (see responseStatus), which ends ' +
        'the delivery without retries (redeliver by hand); retrying: no response or a status >= 500, another ' +
        'attempt is scheduled at nextAttemptAt; failed: no response or >= 500 and no attempt is left',
    }),
    responseStatus: Type.Optional(Type.Integer({ description: "The receiver's HTTP status, when it answered" })),
    error: Type.Optional(Type.String()),
    durationMs: Type.Integer(),
    attemptedAt: Type.String({ description: 'When the attempt ended', examples: ['2021-08-23T02:06:24.000Z'] }),
    nextAttemptAt: Type.Optional(Type.String({ description: 'When the next attempt is due (status retrying)' })),
    replay: Type.Boolean({ description: 'True when the attempt redelivers an event on request' }),
  },
  { $id: 'WebhookDelivery', title: 'WebhookDelivery', 'x-extension': true },
);
export type WebhookDelivery = Static<typeof WebhookDeliverySchema>;

export const WebhookReplaySchema = Type.Object(
  {
    id: Type.String({ description: 'ULID of the queued redelivery' }),
    eventId: Type.String(),
    eventSequence: Type.Integer(),
    event: Type.String(),
  },
  { title: 'WebhookReplay', 'x-extension': true },
);
export type WebhookReplay = Static<typeof WebhookReplaySchema>;
