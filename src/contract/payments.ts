import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from './common.js';
import { CustomerTinySchema, type CustomerTiny } from './customers.js';
import { LocationTinySchema } from './locations.js';
import { OrganizationTinySchema } from './organizations.js';

/** Page size of the payment list (LOKE: other lists 100). */
export const PAYMENT_PAGE_SIZE = 100;

export const PAYMENT_SORTS = ['created', 'updated'] as const;
export type PaymentSort = (typeof PAYMENT_SORTS)[number];

/**
 * The amount fields of a payment, each once, in LOKE's (alphabetical) order. Integers in the lowest denomination of
 * the organization's currency, tax included.
 */
export const PAYMENT_AMOUNTS = {
  chargedAmount: 'Charged to the customer through LOKE (card, wallet); counts toward totalSpend',
  creditAmount: 'Paid with store credit or vouchers; not counted in totalSpend',
  discountAmount: 'Discount given; not counted in totalSpend',
  externalAmount: 'Paid outside LOKE (cash, an external terminal); counts toward totalSpend',
  feeAmount: "The merchant's processing fee; not counted in totalSpend",
  tipAmount: 'Tip, as part of what was paid; not counted again in totalSpend',
} as const;
export type PaymentAmountName = keyof typeof PAYMENT_AMOUNTS;
export const PAYMENT_AMOUNT_NAMES = Object.keys(PAYMENT_AMOUNTS) as PaymentAmountName[];

/** The amounts whose sum, less refunds, is the customer's spend (README: "Spend comes from payments"). */
export const SPEND_AMOUNTS = ['chargedAmount', 'externalAmount'] as const satisfies readonly PaymentAmountName[];

const Timestamp = (description: string) => Type.String({ description, examples: ['2018-08-08T02:35:21Z'] });
const Cents = (description: string) => Type.Integer({ description, examples: [600] });

export const PaymentItemChoiceSchema = Type.Object(
  {
    amount: Type.Integer({ description: 'Price of the choice', examples: [50] }),
    id: Type.String({ description: 'ID of the choice', examples: ['CSML1'] }),
    name: Type.String({ description: 'Name of the choice', examples: ['Small'] }),
  },
  { $id: 'PaymentItemChoice', title: 'PaymentItemChoice' },
);

export const PaymentItemOptionSchema = Type.Object(
  {
    choices: Type.Array(Type.Ref(PaymentItemChoiceSchema)),
    id: Type.String({ description: 'ID of the option', examples: ['OPT01'] }),
    name: Type.String({ description: 'Name of the option', examples: ['Size'] }),
  },
  { $id: 'PaymentItemOption', title: 'PaymentItemOption' },
);

export const PaymentItemSchema = Type.Object(
  {
    amount: Type.Integer({ description: 'Price of one item', examples: [450] }),
    id: Type.String({ description: 'ID of the item', examples: ['FOOD001'] }),
    name: Type.String({ description: 'Name of the item', examples: ['Coffee'] }),
    options: Type.Array(Type.Ref(PaymentItemOptionSchema)),
    quantity: Type.Integer({ description: 'How many', examples: [2] }),
    type: Type.String({ description: 'Kind of line', examples: ['item'] }),
  },
  { $id: 'PaymentItem', title: 'PaymentItem' },
);
export type PaymentItem = Static<typeof PaymentItemSchema>;

// Properties in LOKE's (alphabetical) order: responses serialize in schema order.
export const PaymentSchema = Type.Object(
  {
    billingType: Type.String({ description: 'How the payment was billed', examples: ['order/pickup'] }),
    chargedAmount: Cents(PAYMENT_AMOUNTS.chargedAmount),
    completedAt: Timestamp('When the payment completed'),
    createdAt: Timestamp('When the payment was created'),
    creditAmount: Cents(PAYMENT_AMOUNTS.creditAmount),
    currency: Type.String({ description: "ISO 4217 code: the organization's currency", examples: ['AUD'] }),
    customer: Type.Optional(Type.Ref(CustomerTinySchema)),
    discountAmount: Cents(PAYMENT_AMOUNTS.discountAmount),
    externalAmount: Cents(PAYMENT_AMOUNTS.externalAmount),
    feeAmount: Cents(PAYMENT_AMOUNTS.feeAmount),
    id: Type.String({ description: 'Unique ID of the payment', examples: ['29e13de7-d158-4aba-a928-7d868c1dbfb9'] }),
    items: Type.Array(Type.Ref(PaymentItemSchema)),
    locationId: Type.Optional(Type.String({ description: 'Location the payment was made at' })),
    refundedAmount: Type.Optional(
      Type.Integer({
        description: 'Extension: how much of chargedAmount + externalAmount has been refunded; absent when nothing',
        'x-extension': true,
      }),
    ),
    refundedAt: Type.Optional(Timestamp('When the payment was last refunded; absent when never')),
    // Optional as in LOKE's published example, which ends with the items; we always send both.
    tipAmount: Type.Optional(Cents(PAYMENT_AMOUNTS.tipAmount)),
    updatedAt: Type.Optional(Timestamp('When the payment last changed: commit-ordered, like customers')),
  },
  { $id: 'Payment', title: 'Payment' },
);
export type Payment = Omit<Static<typeof PaymentSchema>, 'customer' | 'items'> & {
  customer?: CustomerTiny;
  items: PaymentItem[];
};

const Text = (description: string, maxLength = 200) => Type.String({ minLength: 1, maxLength, description });
const AmountInput = (description: string) =>
  Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000_000, description: `${description}; default 0` }));
const LineAmount = (description: string) =>
  Type.Integer({ minimum: -1_000_000_000_000, maximum: 1_000_000_000_000, description });

const ChoiceInput = Type.Object(
  { amount: LineAmount('Price of the choice'), id: Text('ID of the choice', 100), name: Text('Name of the choice') },
  { additionalProperties: false },
);
const OptionInput = Type.Object(
  {
    choices: Type.Array(ChoiceInput, { maxItems: 100 }),
    id: Text('ID of the option', 100),
    name: Text('Name of the option'),
  },
  { additionalProperties: false },
);
const ItemInput = Type.Object(
  {
    amount: LineAmount('Price of one item'),
    id: Text('ID of the item', 100),
    name: Text('Name of the item'),
    options: Type.Optional(Type.Array(OptionInput, { maxItems: 100, description: 'Default none' })),
    quantity: Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'How many' }),
    type: Type.Optional(Text('Kind of line; default "item"', 50)),
  },
  { additionalProperties: false },
);

export const RecordPaymentBodySchema = Type.Object(
  {
    billingType: Text('How the payment was billed, such as order/pickup', 100),
    chargedAmount: AmountInput(PAYMENT_AMOUNTS.chargedAmount),
    completedAt: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'RFC 3339 completion time; default now; not in the future',
        examples: ['2021-08-23T02:06:23.000Z'],
      }),
    ),
    createdAt: Type.Optional(
      Type.String({
        format: 'date-time',
        description: 'RFC 3339 creation time; default completedAt; not after completedAt',
        examples: ['2021-08-23T02:06:23.000Z'],
      }),
    ),
    creditAmount: AmountInput(PAYMENT_AMOUNTS.creditAmount),
    currency: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z]{3}$',
        description: "ISO 4217 code; must be the organization's currency (the default)",
        examples: ['AUD'],
      }),
    ),
    customerId: Type.Optional(Text('The paying customer; unknown is a 400', 64)),
    discountAmount: AmountInput(PAYMENT_AMOUNTS.discountAmount),
    externalAmount: AmountInput(PAYMENT_AMOUNTS.externalAmount),
    feeAmount: AmountInput(PAYMENT_AMOUNTS.feeAmount),
    items: Type.Optional(Type.Array(ItemInput, { maxItems: 500, description: 'Lines of the payment; default none' })),
    locationId: Type.Optional(Text('Where it was paid; unknown is a 400', 64)),
    tipAmount: AmountInput(PAYMENT_AMOUNTS.tipAmount),
  },
  { additionalProperties: false, $id: 'RecordPayment', title: 'RecordPayment', 'x-extension': true },
);
export type RecordPaymentBody = Static<typeof RecordPaymentBodySchema>;

export const RefundPaymentBodySchema = Type.Object(
  {
    amount: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 1_000_000_000_000,
        description: 'Cents to refund; default all that remains of chargedAmount + externalAmount',
      }),
    ),
  },
  { additionalProperties: false, $id: 'RefundPayment', title: 'RefundPayment', 'x-extension': true },
);
export type RefundPaymentBody = Static<typeof RefundPaymentBodySchema>;

export const PaymentIdSchema = Type.String({
  minLength: 1,
  // Fastify refuses longer path parameters before validation.
  maxLength: 100,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._:-]*$',
  description: 'Your ID of the payment: letters, digits, . _ : - (at most 100), unique in the organization',
});

export const PaymentListQuerySchema = Type.Object({
  locationId: Type.Optional(Type.String({ maxLength: 100, description: 'Location ID' })),
  customerId: Type.Optional(
    Type.String({ maxLength: 100, description: "Extension: only this customer's payments", 'x-extension': true }),
  ),
  sort: Type.Optional(
    StringEnum(PAYMENT_SORTS, {
      description:
        'Sort the resulting payments by created or updated timestamp (most recent first). Defaults to created.',
    }),
  ),
});

/** The webhook (and feed) payload of `payment.completed` and `payment.refunded`, LOKE's shape. */
export const PaymentEventSchema = Type.Object(
  {
    event: Type.Union([Type.Literal('payment.completed'), Type.Literal('payment.refunded')]),
    payment: Type.Ref(PaymentSchema),
    location: Type.Optional(
      Type.Ref(LocationTinySchema, { description: 'Where it was paid; absent for payments without a location' }),
    ),
    organization: Type.Ref(OrganizationTinySchema),
  },
  { $id: 'PaymentEvent', title: 'PaymentEvent' },
);
