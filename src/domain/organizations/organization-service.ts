import { badRequest, notFound } from '../../errors.js';
import type { Organization } from '../../contract/organizations.js';
import {
  createOrganizationReads,
  findOrganizationsByIds,
  insertOrganization,
  searchOrganizationsByIds,
  type OrganizationRow,
} from '../../store/repositories/organization-repository.js';
import type { Store } from '../../store/store.js';
import { newId } from '../ids.js';
import { decodeCursor, fingerprint, toPage, type Page } from '../paging.js';
import { formatSeconds } from '../time.js';

export const ORGANIZATION_PAGE_SIZE = 100;

export function organizationRowToOrganization(row: OrganizationRow): Organization {
  return {
    created: formatSeconds(row.created_at),
    currency: row.currency,
    id: row.id,
    name: row.name,
    timezone: row.timezone,
  };
}

export interface NewOrganization {
  name: string;
  currency?: string | undefined;
  timezone?: string | undefined;
}

export function validateNewOrganization(input: NewOrganization): Required<NewOrganization> {
  const name = input.name.trim();
  if (name === '' || name.length > 200)
    throw badRequest('name must be 1 to 200 characters', [{ field: 'name', message: 'must be 1 to 200 characters' }]);
  const currency = (input.currency ?? 'AUD').trim().toUpperCase();
  if (!/^[A-Z]{3}$/.test(currency) || !Intl.supportedValuesOf('currency').includes(currency)) {
    throw badRequest(`currency must be an ISO 4217 code such as AUD, got "${input.currency}"`, [
      { field: 'currency', message: 'must be an ISO 4217 code' },
    ]);
  }
  const timezone = (input.timezone ?? 'Australia/Melbourne').trim();
  try {
    new Intl.DateTimeFormat('en', { timeZone: timezone });
  } catch {
    throw badRequest(`timezone must be an IANA time zone such as Australia/Melbourne, got "${timezone}"`, [
      { field: 'timezone', message: 'must be an IANA time zone' },
    ]);
  }
  return { name, currency, timezone };
}

export function createOrganizationService(store: Store) {
  const reads = createOrganizationReads(store);
  return {
    async createOrganization(input: NewOrganization): Promise<Organization> {
      const valid = validateNewOrganization(input);
      const now = Date.now();
      const row: OrganizationRow = {
        id: newId(now),
        ...valid,
        created_at: now,
        clock: 0,
        event_sequence: 0,
        segment_version: 0,
      };
      await insertOrganization(store.db, row);
      return organizationRowToOrganization(row);
    },

    async getOrganization(id: string): Promise<Organization> {
      const row = await reads.findById(id);
      if (!row) throw notFound('Organization');
      return organizationRowToOrganization(row);
    },

    /**
     * The organizations among `grantedIds` that exist, by id, a page at a time; with `query`, only those whose name
     * contains it (A-Z case-insensitively).
     */
    async listOrganizations(
      grantedIds: readonly string[],
      options: { after?: string | undefined; limit?: number | undefined; query?: string | undefined },
    ): Promise<Page<Organization>> {
      const limit = options.limit ?? ORGANIZATION_PAGE_SIZE;
      const query = options.query;
      const queryId = query === undefined ? fingerprint('organizations') : fingerprint('organizations', 'query', query);
      const [afterId] = options.after ? (decodeCursor(options.after, queryId, ['string']) as [string]) : [''];
      const granted = [...grantedIds].filter((id) => id > afterId);
      const rows =
        query === undefined
          ? await findOrganizationsByIds(store.db, granted.sort().slice(0, limit + 1))
          : await searchOrganizationsByIds(store.db, store, granted, query, afterId, limit + 1);
      rows.sort((a, b) => (a.id < b.id ? -1 : 1));
      return toPage(rows, limit, queryId, (row) => [row.id], organizationRowToOrganization);
    },
  };
}
export type OrganizationService = ReturnType<typeof createOrganizationService>;
