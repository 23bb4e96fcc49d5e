import type { Transaction } from 'kysely';
import type { CreateLocationBody, Location, UpdateLocationBody } from '../../contract/locations.js';
import { conflict, notFound } from '../../errors.js';
import {
  createLocationReads,
  findLocation,
  findLocationBySlug,
  insertLocation,
  updateLocation,
  type LocationRow,
} from '../../store/repositories/location-repository.js';
import { createOrganizationReads } from '../../store/repositories/organization-repository.js';
import type { Database } from '../../store/schema.js';
import type { Store } from '../../store/store.js';
import { newId } from '../ids.js';
import { writeInOrganization } from '../organization-write.js';
import { decodeCursor, fingerprint, toPage, type Page } from '../paging.js';
import { parseCreateLocation, parseUpdateLocation } from './location-input.js';

export const LOCATION_PAGE_SIZE = 100;

/** LOKE's Location: absent optional fields are omitted. */
export function locationRowToLocation(row: LocationRow): Location {
  const location: Location = { id: row.id, name: row.name, slug: row.slug, timezone: row.timezone };
  if (row.country !== null) location.country = row.country;
  if (row.latitude !== null) location.latitude = row.latitude;
  if (row.locality !== null) location.locality = row.locality;
  if (row.longitude !== null) location.longitude = row.longitude;
  if (row.phone_number !== null) location.phoneNumber = row.phone_number;
  if (row.postal_code !== null) location.postalCode = row.postal_code;
  if (row.region !== null) location.region = row.region;
  if (row.street_address !== null) location.streetAddress = row.street_address;
  if (row.street_address2 !== null) location.streetAddress2 = row.street_address2;
  return location;
}

const slugTaken = (slug: string) => conflict(`Another location of this organization has the slug "${slug}"`);

async function assertSlugFree(trx: Transaction<Database>, organizationId: string, slug: string, self?: string) {
  const holder = await findLocationBySlug(trx, organizationId, slug);
  if (holder && holder.id !== self) throw slugTaken(slug);
}

/**
 * Locations (LOKE) with our create/update extension. Writes take the
 * organization lock, so the slug check and the write are one serialized step
 * (the unique index backs it up).
 */
export function createLocationService(store: Store) {
  const reads = createLocationReads(store);
  const organizations = createOrganizationReads(store);

  return {
    async listLocations(
      organizationId: string,
      options: { query?: string | undefined; after?: string | undefined; limit?: number | undefined },
    ): Promise<Page<Location>> {
      const limit = options.limit ?? LOCATION_PAGE_SIZE;
      const search = options.query === undefined || options.query === '' ? undefined : options.query.toLowerCase();
      const queryId = fingerprint('locations', organizationId, search);
      const [afterId] = options.after ? (decodeCursor(options.after, queryId, ['string']) as [string]) : [''];
      const rows = await reads.listPage(organizationId, afterId, limit + 1, search);
      return toPage(rows, limit, queryId, (row) => [row.id], locationRowToLocation);
    },

    async getLocation(organizationId: string, id: string): Promise<Location> {
      const row = await reads.findById(organizationId, id);
      if (!row) throw notFound('Location');
      return locationRowToLocation(row);
    },

    async createLocation(organizationId: string, body: CreateLocationBody): Promise<Location> {
      const organization = await organizations.findById(organizationId);
      if (!organization) throw notFound('Organization');
      const columns = parseCreateLocation(body, organization.timezone);
      const row = await writeInOrganization(store, organizationId, async (trx, now) => {
        await assertSlugFree(trx, organizationId, columns.slug);
        const created: LocationRow = {
          organization_id: organizationId,
          id: newId(now),
          ...columns,
          created_at: now,
          updated_at: now,
        };
        await insertLocation(trx, created);
        return created;
      });
      return locationRowToLocation(row);
    },

    async updateLocation(organizationId: string, id: string, body: UpdateLocationBody): Promise<Location> {
      const patch = parseUpdateLocation(body);
      const row = await writeInOrganization(store, organizationId, async (trx, now) => {
        const current = await findLocation(trx, organizationId, id);
        if (!current) throw notFound('Location');
        const changed = (Object.keys(patch) as (keyof typeof patch)[]).some((key) => patch[key] !== current[key]);
        if (!changed) return current;
        if (patch.slug !== undefined) await assertSlugFree(trx, organizationId, patch.slug, id);
        return (await updateLocation(trx, organizationId, id, { ...patch, updated_at: now }))!;
      });
      return locationRowToLocation(row);
    },
  };
}
export type LocationService = ReturnType<typeof createLocationService>;
