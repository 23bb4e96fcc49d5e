import { Type, type Static } from '@sinclair/typebox';

export const OrganizationSchema = Type.Object(
  {
    // Alphabetical, as LOKE serializes: responses keep this order.
    created: Type.String({ description: 'When the organization was created', examples: ['2021-10-20T14:51:16Z'] }),
    currency: Type.String({ description: 'ISO 4217 currency code', examples: ['AUD'] }),
    id: Type.String({ description: 'Unique ID of the organization' }),
    name: Type.String(),
    timezone: Type.String({ description: 'IANA time zone', examples: ['Australia/Melbourne'] }),
  },
  { $id: 'Organization', title: 'Organization' },
);
export type Organization = Static<typeof OrganizationSchema>;

/** LOKE's OrganizationTiny: how webhook and feed payloads name the organization. */
export const OrganizationTinySchema = Type.Object(
  {
    id: Type.String({ description: 'Unique ID of the organization' }),
    name: Type.String({ description: "The organization's name when the event was written" }),
  },
  { $id: 'OrganizationTiny', title: 'OrganizationTiny' },
);
export type OrganizationTiny = Static<typeof OrganizationTinySchema>;
