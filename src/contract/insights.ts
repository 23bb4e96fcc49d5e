import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from './common.js';

export const INSIGHT_INTERVALS = ['day', 'week', 'month'] as const;
export type InsightInterval = (typeof INSIGHT_INTERVALS)[number];
/** The most buckets one request may ask for (a year of days, seven years of weeks, thirty of months). */
export const MAX_INSIGHT_BUCKETS = 366;
/** Buckets served when `from` is not given, ending with the one that holds `to`. */
export const DEFAULT_INSIGHT_BUCKETS: Readonly<Record<InsightInterval, number>> = { day: 30, week: 12, month: 12 };
/** Lists named in topLists, most members first. */
export const TOP_LIST_COUNT = 5;

export const InsightsQuerySchema = Type.Object({
  from: Type.Optional(
    Type.String({
      format: 'date-time',
      maxLength: 64,
      description:
        'RFC 3339 start of the range; widened to the start of its bucket. Default: as many buckets before `to` as ' +
        `${Object.entries(DEFAULT_INSIGHT_BUCKETS)
          .map(([interval, count]) => `${count} for ${interval}`)
          .join(', ')}.`,
      examples: ['2026-09-01T00:00:00+10:00'],
    }),
  ),
  to: Type.Optional(
    Type.String({
      format: 'date-time',
      maxLength: 64,
      description:
        'RFC 3339 end of the range (excluded), after `from`; widened to the end of its bucket. Default: now.',
    }),
  ),
  interval: Type.Optional(
    StringEnum(INSIGHT_INTERVALS, {
      description:
        "Bucket size (default week): calendar days, ISO weeks (from Monday) or months, in the organization's time zone.",
    }),
  ),
});
export type InsightsQuery = Static<typeof InsightsQuerySchema>;

const BucketSchema = Type.Object({
  start: Type.String({
    format: 'date-time',
    description: "Start of the bucket: local midnight in the organization's time zone, as UTC.",
    examples: ['2026-11-29T13:00:00.000Z'],
  }),
  value: Type.Integer(),
});

const series = (description: string) => Type.Array(BucketSchema, { description });

export const InsightsSchema = Type.Object(
  {
    // Alphabetical, as LOKE serializes.
    from: Type.String({ format: 'date-time', description: 'Start of the first bucket.' }),
    interval: StringEnum(INSIGHT_INTERVALS),
    marketingOptIn: Type.Object(
      {
        agreed: Type.Integer({ description: 'Customers who have agreed to marketing now.' }),
        total: Type.Integer({ description: 'Every customer of the organization now.' }),
      },
      { description: 'The share of all current customers (not only of the range) who agreed to marketing.' },
    ),
    series: Type.Object(
      {
        newCustomers: series('Customers created in the bucket (erased ones are gone).'),
        pointsEarned: series('Points added in the bucket (reversed adjustments are gone).'),
        pointsRedeemed: series('Points redeemed in the bucket, as a positive number.'),
        spend: series(
          'Paid amounts (chargedAmount + externalAmount, less refunds) of the payments completed in the bucket, in cents.',
        ),
      },
      { description: 'One entry per bucket, oldest first, zeros included.' },
    ),
    timezone: Type.String({ description: "The organization's IANA time zone the buckets follow." }),
    to: Type.String({ format: 'date-time', description: 'End of the last bucket (excluded).' }),
    topLists: Type.Array(
      Type.Object({
        id: Type.String(),
        memberCount: Type.Integer(),
        name: Type.String(),
      }),
      { description: `The ${TOP_LIST_COUNT} customer lists with the most members, most first (ties by id).` },
    ),
  },
  { $id: 'Insights', title: 'Insights', 'x-extension': true },
);
export type Insights = Static<typeof InsightsSchema>;
