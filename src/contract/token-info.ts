import { Type, type Static } from '@sinclair/typebox';

/** What the bearer token of a request grants (extension: `GET /token-info`). */
export const TokenInfoSchema = Type.Object(
  {
    // Alphabetical, as LOKE serializes.
    organizationIds: Type.Array(Type.String(), {
      description: 'Every organization the token grants, in the order the token lists them.',
    }),
    scopes: Type.Array(Type.String(), {
      description:
        'The scopes the token grants, in the catalogue’s order (customers:read, customers:write, webhooks:manage).',
    }),
  },
  { $id: 'TokenInfo', title: 'TokenInfo', 'x-extension': true },
);
export type TokenInfoBody = Static<typeof TokenInfoSchema>;
