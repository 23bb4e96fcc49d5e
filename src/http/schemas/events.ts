import { Type, type Static } from '@sinclair/typebox';

export const FeedEventSchema = Type.Object(
  {
    id: Type.String({ description: 'ULID of the event' }),
    sequence: Type.Integer({
      description: 'Position in the organization feed: strictly increasing in commit order, without gaps',
    }),
    occurredAt: Type.String({ description: 'Commit time of the write', examples: ['2021-08-23T02:06:24.000Z'] }),
    event: Type.String({ description: 'Event type', examples: ['customer.created'] }),
  },
  {
    $id: 'FeedEvent',
    title: 'FeedEvent',
    additionalProperties: true,
    description: 'An event of the change feed: the webhook payload ({event, ...}) plus id, sequence and occurredAt.',
    'x-extension': true,
  },
);
export type FeedEvent = Static<typeof FeedEventSchema> & Record<string, unknown>;
