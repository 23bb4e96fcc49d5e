import { Type, type Static } from '@sinclair/typebox';

// Properties in LOKE's (alphabetical) order: responses serialize in schema order.
export const CustomerListSchema = Type.Object(
  {
    createdAt: Type.String({ description: 'When the list was created', examples: ['2021-10-20T14:51:16Z'] }),
    id: Type.String({ description: 'Unique ID of the customer list' }),
    memberCount: Type.Integer({ description: 'How many customers are members of the list' }),
    name: Type.String({ description: 'The name of the customer list' }),
  },
  { $id: 'CustomerList', title: 'CustomerList', description: 'A customer list' },
);
export type CustomerList = Static<typeof CustomerListSchema>;

export const CustomerListMemberSchema = Type.Object(
  {
    addedAt: Type.String({
      description: 'When the customer was added to the list',
      examples: ['2021-10-20T14:51:16Z'],
    }),
    email: Type.Optional(Type.String({ description: 'The Customers email address' })),
    firstName: Type.String({ description: 'Customer first name or given name' }),
    id: Type.String({ description: 'Unique ID of the Customer' }),
    lastName: Type.String({ description: 'Customer last name or surname' }),
    phoneNumber: Type.Optional(Type.String({ description: 'The Customers mobile phone number' })),
  },
  { $id: 'CustomerListMember', title: 'CustomerListMember', description: 'A member of a customer list' },
);
export type CustomerListMember = Static<typeof CustomerListMemberSchema>;

export const CustomerListBodySchema = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 200, description: 'The name of the customer list' }) },
  { additionalProperties: false, $id: 'CustomerListBody', title: 'CustomerListBody' },
);
export type CustomerListBody = Static<typeof CustomerListBodySchema>;
