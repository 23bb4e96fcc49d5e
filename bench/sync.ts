import { fetchAll, type SyncResult } from './load.js';

/** A full sync of the organization through our client: every customer, sort=updated. */
export async function syncWithSdk(baseUrl: string, token: string, organizationId: string): Promise<SyncResult & { client: string }> {
  const result = await fetchAll(`${baseUrl}/organizations/${organizationId}/customers?sort=updated`, token);
  return { ...result, client: 'fetch loop (SDK pending)' };
}
