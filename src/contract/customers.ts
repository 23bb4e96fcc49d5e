import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from './common.js';

const Timestamp = (description: string) => Type.String({ description, examples: ['2021-10-20T14:51:16Z'] });
const StatTimestamp = (description: string) => Type.String({ description, examples: ['2021-08-23T02:06:24.000Z'] });

export const GenderSchema = Type.Union([Type.Literal('MALE'), Type.Literal('FEMALE'), Type.Literal('OTHER')]);

export const CustomerStatisticsSchema = Type.Object(
  {
    lastPointsEarnedAt: Type.Optional(StatTimestamp('Date and time of last points earned by the Customer')),
    lastPointsRedeemedAt: Type.Optional(StatTimestamp('Date and time of last redeemed points by the Customer')),
    lastSpentAt: Type.Optional(StatTimestamp('The date of the Customers last spend')),
    pointsBalance: Type.Optional(Type.Integer({ description: 'The Customers current points balance' })),
    totalPointsEarned: Type.Optional(
      Type.Integer({ description: 'The total points earned over the Customers lifetime' }),
    ),
    totalPointsRedeemed: Type.Optional(
      Type.Integer({ description: 'Total points redeemed over lifetime of the Customer' }),
    ),
    totalSpend: Type.Optional(
      Type.Integer({
        description: 'The total spend amount of the Customer, in the lowest common denominator e.g. cents',
      }),
    ),
  },
  { $id: 'CustomerStatistics', title: 'CustomerStatistics' },
);
export type CustomerStatistics = Static<typeof CustomerStatisticsSchema>;

// Properties in the seed's (alphabetical) order: responses serialize in schema order.
export const CustomerSchema = Type.Object(
  {
    createdAt: Type.Optional(Timestamp('The date and time that the Customer was created')),
    dob: Type.Optional(Type.String({ description: 'The Customers date of birth in YYYY-MM-DD format' })),
    email: Type.Optional(Type.String({ description: 'The Customers email address' })),
    firstName: Type.String({ description: 'Customer first name or given name' }),
    gender: Type.Optional(Type.String({ description: 'The Customers gender' })),
    hasAgreedToMarketing: Type.Optional(Type.Boolean({ description: 'If the Customer has agreed to marketing' })),
    id: Type.String({ description: 'Unique ID of the Customer' }),
    lastName: Type.String({ description: 'Customer last name or surname' }),
    phoneNumber: Type.Optional(Type.String({ description: 'The Customers mobile phone number' })),
    statistics: Type.Optional(Type.Ref(CustomerStatisticsSchema)),
    updatedAt: Type.Optional(Timestamp('The date and time that the Customer was last updated')),
  },
  { $id: 'Customer', title: 'Customer' },
);
export type Customer = Omit<Static<typeof CustomerSchema>, 'statistics'> & { statistics?: CustomerStatistics };

export const CustomerTinySchema = Type.Object(
  {
    email: Type.Optional(Type.String({ description: 'The Customers email address' })),
    firstName: Type.String({ description: 'Customer first name or given name' }),
    id: Type.String({ description: 'Unique ID of the Customer' }),
    lastName: Type.String({ description: 'Customer last name or surname' }),
    phoneNumber: Type.Optional(Type.String({ description: 'The Customers mobile phone number' })),
  },
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

const Name = (description: string) => Type.String({ minLength: 1, maxLength: 200, description });

const WritableCustomerFields = {
  email: Type.String({ maxLength: 254, description: 'Email address; searched case-insensitively.' }),
  phoneNumber: Type.String({
    maxLength: 32,
    description: 'Phone number; national numbers are read in DEFAULT_PHONE_REGION and stored as E.164.',
  }),
  dob: Type.String({ description: 'Date of birth, YYYY-MM-DD.' }),
  gender: Type.String({ description: 'MALE, FEMALE or OTHER.' }),
  hasAgreedToMarketing: Type.Boolean(),
};

export const CreateCustomerBodySchema = Type.Object(
  {
    firstName: Name('Customer first name or given name'),
    lastName: Name('Customer last name or surname'),
    email: Type.Optional(WritableCustomerFields.email),
    phoneNumber: Type.Optional(WritableCustomerFields.phoneNumber),
    dob: Type.Optional(WritableCustomerFields.dob),
    gender: Type.Optional(WritableCustomerFields.gender),
    hasAgreedToMarketing: Type.Optional(WritableCustomerFields.hasAgreedToMarketing),
    createdAt: Type.Optional(
      Type.String({ description: 'RFC 3339 creation time, for imports from another system; defaults to now.' }),
    ),
  },
  { additionalProperties: false, $id: 'CreateCustomer', title: 'CreateCustomer', 'x-extension': true },
);
export type CreateCustomerBody = Static<typeof CreateCustomerBodySchema>;

export const UpdateCustomerBodySchema = Type.Object(
  {
    firstName: Type.Optional(Name('Customer first name or given name')),
    lastName: Type.Optional(Name('Customer last name or surname')),
    email: Type.Optional(Type.Union([WritableCustomerFields.email, Type.Null()], { description: 'null removes it' })),
    phoneNumber: Type.Optional(
      Type.Union([WritableCustomerFields.phoneNumber, Type.Null()], { description: 'null removes it' }),
    ),
    dob: Type.Optional(Type.Union([WritableCustomerFields.dob, Type.Null()], { description: 'null removes it' })),
    gender: Type.Optional(Type.Union([WritableCustomerFields.gender, Type.Null()], { description: 'null removes it' })),
    hasAgreedToMarketing: Type.Optional(
      Type.Union([WritableCustomerFields.hasAgreedToMarketing, Type.Null()], { description: 'null removes it' }),
    ),
  },
  { additionalProperties: false, $id: 'UpdateCustomer', title: 'UpdateCustomer', 'x-extension': true },
);
export type UpdateCustomerBody = Static<typeof UpdateCustomerBodySchema>;

export const CUSTOMER_SORTS = ['created', 'updated'] as const;
export const CustomerSortSchema = StringEnum(CUSTOMER_SORTS);
export type CustomerSort = Static<typeof CustomerSortSchema>;
