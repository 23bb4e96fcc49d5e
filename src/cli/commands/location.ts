import type { CreateLocationBody, Location } from '../../contract/locations.js';
import { invalidField } from '../../errors.js';
import type { Services } from '../../services.js';
import { singleOrganization, UsageError, type Command, type CommandContext } from '../command.js';

/** The `location create` flags, each naming the body field it fills. */
const LOCATION_FLAGS = {
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

interface LocationCommandOptions {
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

async function runLocationCommand(
  services: Services,
  sub: string | undefined,
  options: LocationCommandOptions,
): Promise<number> {
  const organizationId = options.organizationId;
  if (organizationId === undefined) throw new UsageError(`location ${sub ?? ''} needs --org ORG_ID`);
  if (sub === 'create') {
    const { name, latitude, longitude, ...text } = options.flags;
    if (name === undefined) throw new UsageError('location create needs --name NAME');
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
  throw new UsageError(`unknown location command "${sub ?? ''}"; use location create or location list`);
}

/**
 * `location create|list`: through the same service as the HTTP API, so the
 * CLI validates exactly as `POST /locations` does.
 */
export const location: Command = {
  usage: `location create --org ORG_ID --name NAME [--slug SLUG] [--timezone TZ] [--country CC] [--phone P] [--street S]
                  [--street2 S] [--locality L] [--region R] [--postal-code PC] [--latitude LAT] [--longitude LON]
  location list --org ORG_ID [--query TEXT]`,
  options: {
    org: { type: 'string', multiple: true },
    query: { type: 'string' },
    ...Object.fromEntries(Object.keys(LOCATION_FLAGS).map((flag) => [flag, { type: 'string' as const }])),
  },
  run: (context: CommandContext) =>
    context.withServices((services) =>
      runLocationCommand(services, context.args[0], {
        organizationId: context.strings('org') === undefined ? undefined : singleOrganization(context, 'location'),
        flags: Object.fromEntries(Object.keys(LOCATION_FLAGS).map((flag) => [flag, context.string(flag)])),
        query: context.string('query'),
        print: (human, data) => context.print(human, data),
      }),
    ),
};
