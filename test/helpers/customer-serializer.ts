import { Type } from '@sinclair/typebox';
import { CustomerSchema, CustomerStatisticsSchema, type Customer } from '../../src/contract/customers.js';
import { declaredOrderSerializer } from '../../src/http/serializer.js';

const compile = declaredOrderSerializer()(
  { Customer: CustomerSchema, CustomerStatistics: CustomerStatisticsSchema },
  {},
);

/**
 * What the routes answer with: the app's serializer factory (fast-json-stringify, keys in declared order) over the
 * Customer schema, as the list route serializes its response items.
 */
export const serializeCustomer = compile({
  schema: Type.Ref(CustomerSchema),
  method: 'GET',
  url: '/',
  httpStatus: '200',
}) as (customer: Customer) => string;

export const serializeCustomers = (customers: readonly Customer[]) =>
  `[${customers.map((customer) => serializeCustomer(customer)).join(',')}]`;
