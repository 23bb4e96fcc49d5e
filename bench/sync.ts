import { CustomersClient } from '../src/client/index.js';
import type { SyncResult } from './load.js';

/** A full sync of the organization through our SDK: every customer, `sort=updated`, page by page. */
export async function syncWithSdk(
  baseUrl: string,
  token: string,
  organizationId: string,
): Promise<SyncResult & { client: string }> {
  const client = new CustomersClient({ baseUrl, token });
  const started = performance.now();
  let customers = 0;
  let pages = 0;
  for await (const page of client.customers.list(organizationId, { sort: 'updated' }).pages({ prefetch: true })) {
    customers += page.items.length;
    pages++;
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    customers,
    pages,
    seconds,
    perSecond: customers / seconds,
    client: 'SDK client.customers.list(org, { sort: "updated" }).pages({ prefetch: true })',
  };
}
