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
