import type { CreateLocationBody, Location } from '../contract/locations.js';
import { invalidField } from '../errors.js';
import type { Services } from '../services.js';

export class LocationUsageError extends Error {}

/** The `location create` flags, each naming the body field it fills. */
export const LOCATION_FLAGS = {
  name: 'name',
  slug: 'slug',
  timezone: 'timezone',
  country: 'country',
  phone: 'phoneNumber',
  street: 'streetAddress',
  street2: 'streetAddress2',
  locality: 'locality',
  region: 'region',
  'postal-code': 'postalCode',
  latitude: 'latitude',
  longitude: 'longitude',
} as const satisfies Record<string, keyof CreateLocationBody>;

export interface LocationCommandOptions {
  organizationId: string | undefined;
  flags: Partial<Record<keyof typeof LOCATION_FLAGS, string>>;
  query: string | undefined;
  print(human: string, data: unknown): void;
}

function describe(location: Location): string {
  const address = [location.streetAddress, location.locality, location.region, location.postalCode, location.country]
    .filter(Boolean)
    .join(', ');
  return `${location.id}  ${location.slug}  ${location.name}  ${location.timezone}${address ? `  ${address}` : ''}`;
}

function coordinate(field: 'latitude' | 'longitude', raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw invalidField(field, `must be a number, got "${raw}"`);
  return value;
}

/**
 * `location create|list`: through the same service as the HTTP API, so the
 * CLI validates exactly as `POST /locations` does.
 */
export async function runLocationCommand(
  services: Services,
  sub: string | undefined,
  options: LocationCommandOptions,
): Promise<number> {
  const organizationId = options.organizationId;
  if (organizationId === undefined) throw new LocationUsageError(`location ${sub ?? ''} needs --org ORG_ID`);
  if (sub === 'create') {
    const { name, latitude, longitude, ...text } = options.flags;
    if (name === undefined) throw new LocationUsageError('location create needs --name NAME');
    const body: CreateLocationBody = { name };
    for (const [flag, value] of Object.entries(text) as [keyof typeof text, string | undefined][]) {
      if (value !== undefined) body[LOCATION_FLAGS[flag]] = value;
    }
    if (latitude !== undefined) body.latitude = coordinate('latitude', latitude);
    if (longitude !== undefined) body.longitude = coordinate('longitude', longitude);
    const location = await services.locations.createLocation(organizationId, body);
    options.print(`Created location ${describe(location)}`, location);
    return 0;
  }
  if (sub === 'list') {
    const locations: Location[] = [];
    let after: string | undefined;
    do {
      const page = await services.locations.listLocations(organizationId, { query: options.query, after });
      locations.push(...page.items);
      after = page.next;
    } while (after !== undefined);
    options.print(locations.map(describe).join('\n') || 'No locations', locations);
    return 0;
  }
  throw new LocationUsageError(`unknown location command "${sub ?? ''}"; use location create or location list`);
}
