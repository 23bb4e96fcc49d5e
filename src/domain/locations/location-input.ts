import { invalidField } from '../../errors.js';
import type { CreateLocationBody, UpdateLocationBody } from '../../contract/locations.js';
import type { LocationsTable } from '../../store/schema.js';

// ICU knows more two-letter regions than ISO 3166-1 assigns: these are its withdrawn, exceptionally reserved and
// user-assigned codes (AC, EU, UK, XK, ZZ ...), which are not countries' alpha-2 codes.
const NOT_ALPHA_2 = new Set(
  'AC AN BU CP CQ CS DD DG DY EA EU EZ FX HV IC NH QO RH SU TA TP UK UN VD XA XB XK YD YU ZR ZZ'.split(' '),
);
const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });

/** True for the 249 officially assigned ISO 3166-1 alpha-2 codes (upper case). */
export function isCountryCode(code: string): boolean {
  return /^[A-Z]{2}$/.test(code) && !NOT_ALPHA_2.has(code) && regionNames.of(code) !== undefined;
}

export function isTimeZone(name: string): boolean {
  // Intl accepts offsets such as +10:00 as a timeZone too; a location needs a zone name.
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(name)) return false;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** A slug made from a name: "St Kilda Rd & Co." -> "st-kilda-rd-co". */
export function slugify(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 100)
    .replace(/-+$/, '');
}

type LocationColumns = Omit<LocationsTable, 'organization_id' | 'id' | 'created_at' | 'updated_at'>;

const OPTIONAL_TEXT = {
  phoneNumber: 'phone_number',
  streetAddress: 'street_address',
  streetAddress2: 'street_address2',
  locality: 'locality',
  region: 'region',
  postalCode: 'postal_code',
} as const satisfies Partial<Record<keyof CreateLocationBody, keyof LocationColumns>>;

function checkText(field: string, value: string): string {
  const trimmed = value.trim();
  if (trimmed === '') throw invalidField(field, 'must not be blank');
  return trimmed;
}

function checkCountry(value: string): string {
  const code = value.trim().toUpperCase();
  if (!isCountryCode(code))
    throw invalidField('country', `must be an ISO 3166-1 alpha-2 code such as AU, got "${value}"`);
  return code;
}

function checkTimeZone(value: string): string {
  const zone = value.trim();
  if (!isTimeZone(zone))
    throw invalidField('timezone', `must be an IANA time zone such as Australia/Melbourne, got "${value}"`);
  return zone;
}

/** The columns of a new location, validated; `timezone` falls back to the organization's. */
export function parseCreateLocation(body: CreateLocationBody, defaultTimezone: string): LocationColumns {
  const name = checkText('name', body.name);
  const slug = body.slug ?? slugify(name);
  if (slug === '') throw invalidField('slug', 'cannot be made from this name; give one');
  const columns: LocationColumns = {
    name,
    name_search: name.toLowerCase(),
    slug,
    timezone: checkTimeZone(body.timezone ?? defaultTimezone),
    phone_number: null,
    street_address: null,
    street_address2: null,
    locality: null,
    region: null,
    postal_code: null,
    country: body.country === undefined ? null : checkCountry(body.country),
    latitude: body.latitude ?? null,
    longitude: body.longitude ?? null,
  };
  for (const [field, column] of Object.entries(OPTIONAL_TEXT) as [
    keyof typeof OPTIONAL_TEXT,
    keyof LocationColumns,
  ][]) {
    const value = body[field];
    if (value !== undefined) (columns[column] as string | null) = checkText(field, value);
  }
  return columns;
}

/** The columns a PATCH changes, validated; `null` clears an optional field. */
export function parseUpdateLocation(body: UpdateLocationBody): Partial<LocationColumns> {
  const patch: Partial<LocationColumns> = {};
  if (body.name !== undefined) {
    patch.name = checkText('name', body.name);
    patch.name_search = patch.name.toLowerCase();
  }
  if (body.slug !== undefined) patch.slug = body.slug;
  if (body.timezone !== undefined) patch.timezone = checkTimeZone(body.timezone);
  if (body.country !== undefined) patch.country = body.country === null ? null : checkCountry(body.country);
  if (body.latitude !== undefined) patch.latitude = body.latitude;
  if (body.longitude !== undefined) patch.longitude = body.longitude;
  for (const [field, column] of Object.entries(OPTIONAL_TEXT) as [
    keyof typeof OPTIONAL_TEXT,
    keyof LocationColumns,
  ][]) {
    const value = body[field];
    if (value !== undefined) (patch[column] as string | null) = value === null ? null : checkText(field, value);
  }
  return patch;
}
