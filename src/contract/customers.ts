import {
  Type,
  type Static,
  type TInteger,
  type TNull,
  type TOptional,
  type TProperties,
  type TSchema,
  type TString,
  type TUnion,
} from '@sinclair/typebox';
import { StringEnum } from './common.js';
import { CUSTOMER_FIELDS, CUSTOMER_STATISTICS, entriesOf, type CustomerFieldDefinition } from './customer-fields.js';

// The schemas below derive from the field table in customer-fields.ts.

type Fields = typeof CUSTOMER_FIELDS;
type Statistics = typeof CUSTOMER_STATISTICS;
type OptionalUnless<F, S extends TSchema> = F extends { required: true } ? S : TOptional<S>;
type WriteSchema<F> = F extends { write: infer S extends TSchema } ? S : never;
type PatchSchema<F> = F extends { patch: infer S extends TSchema } ? S : WriteSchema<F>;
type WritableName = { [K in keyof Fields]: Fields[K] extends { write: TSchema } ? K : never }[keyof Fields];
type PatchableName = { [K in WritableName]: Fields[K] extends { createOnly: true } ? never : K }[WritableName];
type TinyName = { [K in keyof Fields]: Fields[K] extends { tiny: true } ? K : never }[keyof Fields];

const optionalUnlessRequired = (required: boolean | undefined, schema: TSchema): TSchema =>
  required ? schema : Type.Optional(schema);
const alphabetical = <T>(entries: [string, T][]) => entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

const statisticsProperties: TProperties = {};
for (const [name, statistic] of alphabetical(entriesOf(CUSTOMER_STATISTICS))) {
  statisticsProperties[name] = Type.Optional(
    statistic.kind === 'count'
      ? Type.Integer({ description: statistic.description })
      : Type.String({
          format: 'date-time',
          description: statistic.description,
          examples: ['2021-08-23T02:06:24.000Z'],
        }),
  );
}
export const CustomerStatisticsSchema = Type.Object(
  statisticsProperties as {
    -readonly [K in keyof Statistics]: TOptional<Statistics[K]['kind'] extends 'count' ? TInteger : TString>;
  },
  { $id: 'CustomerStatistics', title: 'CustomerStatistics' },
);
export type CustomerStatistics = Static<typeof CustomerStatisticsSchema>;

// Properties in the seed's (alphabetical) order: responses serialize in schema order.
const StatisticsProperty = Type.Optional(Type.Ref(CustomerStatisticsSchema));
const customerProperties: TProperties = { statistics: StatisticsProperty };
const tinyProperties: TProperties = {};
for (const [name, field] of entriesOf(CUSTOMER_FIELDS)) {
  const definition: CustomerFieldDefinition = field;
  customerProperties[name] = optionalUnlessRequired(definition.required, definition.read);
  if (definition.tiny) tinyProperties[name] = optionalUnlessRequired(definition.required, definition.read);
}
const sortedProperties = (properties: TProperties): TProperties =>
  Object.fromEntries(alphabetical(Object.entries(properties)));

export const CustomerSchema = Type.Object(
  sortedProperties(customerProperties) as {
    -readonly [K in keyof Fields]: OptionalUnless<Fields[K], Fields[K]['read']>;
  } & {
    statistics: typeof StatisticsProperty;
  },
  { $id: 'Customer', title: 'Customer' },
);
export type Customer = Omit<Static<typeof CustomerSchema>, 'statistics'> & { statistics?: CustomerStatistics };

export const CustomerTinySchema = Type.Object(
  sortedProperties(tinyProperties) as { -readonly [K in TinyName]: OptionalUnless<Fields[K], Fields[K]['read']> },
  { $id: 'CustomerTiny', title: 'CustomerTiny' },
);
export type CustomerTiny = Static<typeof CustomerTinySchema>;

export const CustomerListTinySchema = Type.Object(
  {
    id: Type.Optional(Type.String({ description: 'Unique ID of the customer list' })),
    name: Type.Optional(Type.String({ description: 'The name of the customer list' })),
  },
  { $id: 'CustomerListTiny', title: 'CustomerListTiny', description: 'A customer list' },
);
export type CustomerListTiny = Static<typeof CustomerListTinySchema>;

const createProperties: TProperties = {};
const updateProperties: TProperties = {};
for (const [name, field] of entriesOf(CUSTOMER_FIELDS)) {
  const definition: CustomerFieldDefinition = field;
  if (definition.write === undefined) continue;
  createProperties[name] = optionalUnlessRequired(definition.required, definition.write);
  if (definition.createOnly) continue;
  updateProperties[name] = Type.Optional(
    definition.required
      ? definition.write
      : Type.Union([definition.patch ?? definition.write, Type.Null()], { description: 'null removes it' }),
  );
}

export const CreateCustomerBodySchema = Type.Object(
  createProperties as { -readonly [K in WritableName]: OptionalUnless<Fields[K], WriteSchema<Fields[K]>> },
  { additionalProperties: false, $id: 'CreateCustomer', title: 'CreateCustomer', 'x-extension': true },
);
export type CreateCustomerBody = Static<typeof CreateCustomerBodySchema>;

export const UpdateCustomerBodySchema = Type.Object(
  updateProperties as {
    -readonly [K in PatchableName]: TOptional<
      Fields[K] extends { required: true } ? WriteSchema<Fields[K]> : TUnion<[PatchSchema<Fields[K]>, TNull]>
    >;
  },
  { additionalProperties: false, $id: 'UpdateCustomer', title: 'UpdateCustomer', 'x-extension': true },
);
export type UpdateCustomerBody = Static<typeof UpdateCustomerBodySchema>;

export const CUSTOMER_SORTS = ['created', 'updated'] as const;
export const CustomerSortSchema = StringEnum(CUSTOMER_SORTS);
export type CustomerSort = Static<typeof CustomerSortSchema>;
