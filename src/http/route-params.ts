import { Type } from '@sinclair/typebox';

/** The `{organizationId}` path parameter of every organization-scoped route. */
export const organizationIdParam = Type.String({ description: 'Organization ID' });
export const OrganizationParams = Type.Object({ organizationId: organizationIdParam });
export const CustomerParams = Type.Object({
  organizationId: organizationIdParam,
  customerId: Type.String({ description: 'Customer ID' }),
});
