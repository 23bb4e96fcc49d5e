import { Type, type Static } from '@sinclair/typebox';

export const PointsBodySchema = Type.Object(
  {
    amount: Type.Integer({
      minimum: -1_000_000_000,
      maximum: 1_000_000_000,
      not: { enum: [0] },
      description:
        'Whole points to add; negative redeems. Not 0. A fractional amount * pointsPerDollar must be rounded by the ' +
        'caller: a non-integer is a 400 and stores nothing.',
    }),
    notes: Type.Optional(Type.String({ maxLength: 1000, description: 'Free text kept with the adjustment' })),
  },
  { additionalProperties: false, $id: 'PointsAdjustment', title: 'PointsAdjustment' },
);
export type PointsBody = Static<typeof PointsBodySchema>;

export const SpendBodySchema = Type.Object(
  {
    amount: Type.Integer({ minimum: 1, maximum: 1_000_000_000_000, description: 'Amount spent, in cents' }),
    occurredAt: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'RFC 3339 time of the spend, not in the future; defaults to now. Feeds lastSpentAt.',
        examples: ['2021-08-23T02:06:23.000Z'],
      }),
    ),
  },
  { additionalProperties: false, $id: 'SpendRecord', title: 'SpendRecord', 'x-extension': true },
);
export type SpendBody = Static<typeof SpendBodySchema>;

export const ReferenceSchema = Type.String({
  minLength: 1,
  // Fastify refuses longer path parameters (414) before validation.
  maxLength: 100,
  description: 'Your unique reference for this adjustment (per customer, at most 100 characters); reusing it is a 409.',
});

/** Points entries per page of a customer's points history. */
export const POINTS_PAGE_SIZE = 100;

/** One adjustment of a customer's points ledger: the body it was recorded with, its reference and when. */
export const PointsEntrySchema = Type.Object(
  {
    amount: Type.Integer({ description: 'Points added; negative when redeemed.' }),
    notes: Type.Optional(Type.String({ description: 'The notes recorded with the adjustment; absent when none.' })),
    occurredAt: Type.String({
      format: 'date-time',
      description: 'When the adjustment was recorded.',
      examples: ['2021-08-23T02:06:24.000Z'],
    }),
    reference: Type.String({ description: 'The reference the adjustment was recorded under.' }),
  },
  { $id: 'PointsEntry', title: 'PointsEntry', 'x-extension': true },
);
export type PointsEntry = Static<typeof PointsEntrySchema>;
