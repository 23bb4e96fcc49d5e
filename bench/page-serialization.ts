/**
 * A cold page of 1000 customers (what every page of a full sync is), from the rows the statement returned to the
 * bytes of the response: the row mapped to the API object and serialized by the route's schema serializer (before)
 * against the row written straight to JSON (src/domain/customers/customer-json.ts), alternating rounds in one
 * process on the rows of the bench's SQLite dataset. Run: `npm run build && tsc -p bench/tsconfig.json && node
 * bench/.build/bench/page-serialization.js [rounds]` (after `npm run bench` has generated bench/.data/sqlite-*).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Type } from '@sinclair/typebox';
import Database from 'better-sqlite3';
import { CustomerSchema, CustomerStatisticsSchema, type Customer } from '../src/contract/customers.js';
import { joinBodies } from '../src/domain/customers/customer-bodies.js';
import { customerRowToJson } from '../src/domain/customers/customer-json.js';
import { customerRowToCustomer } from '../src/domain/customers/customer-mapper.js';
import { declaredOrderSerializer } from '../src/http/serializer.js';
import type { CustomerRow } from '../src/store/repositories/customer-repository.js';
import { DATA_DIR } from './data.js';

const rounds = Number(process.argv[2] ?? '40');
const dir = fs
  .readdirSync(DATA_DIR)
  .filter((name) => name.startsWith('sqlite-'))
  .sort((a, b) => Number(b.slice(7)) - Number(a.slice(7)))[0];
if (!dir) throw new Error(`no SQLite dataset under ${DATA_DIR}: run npm run bench first`);
const db = new Database(path.join(DATA_DIR, dir, 'customers.db'), { readonly: true });
const rows = db.prepare('select * from customers order by updated_at desc, id desc limit 1000').all() as CustomerRow[];
db.close();

const serializeCustomer = declaredOrderSerializer()(
  { Customer: CustomerSchema, CustomerStatistics: CustomerStatisticsSchema },
  {},
)({ schema: Type.Ref(CustomerSchema), method: 'GET', url: '/', httpStatus: '200' }) as (c: Customer) => string;

const viaObjects = () => joinBodies(rows.map((row) => serializeCustomer(customerRowToCustomer(row))));
const straight = () => joinBodies(rows.map(customerRowToJson));
if (!viaObjects().equals(straight())) throw new Error('the two ways give different bytes');

const PAGES_PER_ROUND = 20;
function measure(run: () => Buffer): number {
  const start = process.cpuUsage();
  for (let i = 0; i < PAGES_PER_ROUND; i++) run();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / PAGES_PER_ROUND;
}
const before: number[] = [];
const after: number[] = [];
for (let round = 0; round < rounds; round++) {
  // Alternate which goes first, so machine load and GC hit both alike.
  if (round % 2 === 0) {
    before.push(measure(viaObjects));
    after.push(measure(straight));
  } else {
    after.push(measure(straight));
    before.push(measure(viaObjects));
  }
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const bytes = straight().length;
console.log(`${dir}: a page of ${rows.length} customers, ${bytes.toLocaleString('en')} bytes, ${rounds} rounds`);
console.log(`row -> object -> schema serializer: median ${median(before).toFixed(0)} µs CPU a page`);
console.log(`row -> JSON (customer-json.ts):     median ${median(after).toFixed(0)} µs CPU a page`);
console.log(`ratio: ${(median(before) / median(after)).toFixed(2)}× less CPU a page`);
