import { Type, type Static } from '@sinclair/typebox';

export const OrganizationSchema = Type.Object(
  {
    id: Type.String({ description: 'Unique ID of the organization' }),
    name: Type.String(),
    currency: Type.String({ description: 'ISO 4217 currency code', examples: ['AUD'] }),
    timezone: Type.String({ description: 'IANA time zone', examples: ['Australia/Melbourne'] }),
    created: Type.String({ description: 'When the organization was created', examples: ['2021-10-20T14:51:16Z'] }),
  },
  { $id: 'Organization', title: 'Organization' },
);
export type Organization = Static<typeof OrganizationSchema>;
