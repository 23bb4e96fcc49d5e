import { Type, type Static } from '@sinclair/typebox';

// Properties in LOKE's (alphabetical) order: responses serialize in schema order.
export const LocationSchema = Type.Object(
  {
    country: Type.Optional(
      Type.String({ description: 'Country; ours are ISO 3166-1 alpha-2 codes (LOKE may send names)' }),
    ),
    id: Type.String({ description: 'Unique Location ID' }),
    latitude: Type.Optional(Type.Number({ description: 'Latitude in decimal degrees', examples: [-37.8236] })),
    locality: Type.Optional(Type.String({ description: 'Suburb, town or city' })),
    longitude: Type.Optional(Type.Number({ description: 'Longitude in decimal degrees', examples: [144.9913] })),
    name: Type.String({ description: 'Name of the location' }),
    phoneNumber: Type.Optional(Type.String({ description: 'Phone number of the location' })),
    postalCode: Type.Optional(Type.String({ description: 'Postal code' })),
    region: Type.Optional(Type.String({ description: 'State or region' })),
    slug: Type.String({ description: 'URL-friendly name, unique within the organization', examples: ['richmond'] }),
    streetAddress: Type.Optional(Type.String({ description: 'Street address' })),
    streetAddress2: Type.Optional(Type.String({ description: 'Second line of the street address' })),
    timezone: Type.String({ description: 'IANA time zone of the location', examples: ['Australia/Melbourne'] }),
  },
  { $id: 'Location', title: 'Location', description: 'A full organization location' },
);
export type Location = Static<typeof LocationSchema>;

export const LocationTinySchema = Type.Object(
  {
    id: Type.String({ description: 'Unique Location ID' }),
    name: Type.String({ description: 'Name of the location' }),
  },
  { $id: 'LocationTiny', title: 'LocationTiny' },
);
export type LocationTiny = Static<typeof LocationTinySchema>;

const Text = (description: string, maxLength = 200) => Type.String({ minLength: 1, maxLength, description });
const Nullable = <T extends ReturnType<typeof Text> | ReturnType<typeof Type.Number>>(schema: T) =>
  Type.Union([schema, Type.Null()], { description: `${schema.description ?? ''}; null removes it` });

const slugOptions = {
  minLength: 1,
  maxLength: 100,
  pattern: '^[a-z0-9]+(-[a-z0-9]+)*$',
  description: 'Lowercase letters, digits and single hyphens; unique within the organization (else 409)',
};

/** The writable fields, each once; create and update derive from them. */
const LocationFields = {
  country: Type.String({
    pattern: '^[A-Za-z]{2}$',
    description: 'ISO 3166-1 alpha-2 country code, such as AU (an assigned one)',
    examples: ['AU'],
  }),
  latitude: Type.Number({ minimum: -90, maximum: 90, description: 'Latitude, -90..90' }),
  locality: Text('Suburb, town or city'),
  longitude: Type.Number({ minimum: -180, maximum: 180, description: 'Longitude, -180..180' }),
  name: Text('Name of the location'),
  phoneNumber: Text('Phone number of the location', 32),
  postalCode: Text('Postal code', 20),
  region: Text('State or region'),
  slug: Type.String(slugOptions),
  streetAddress: Text('Street address'),
  streetAddress2: Text('Second line of the street address'),
  timezone: Type.String({
    minLength: 1,
    maxLength: 64,
    description: 'IANA time zone such as Australia/Melbourne',
    examples: ['Australia/Melbourne'],
  }),
};

export const CreateLocationBodySchema = Type.Object(
  {
    country: Type.Optional(LocationFields.country),
    latitude: Type.Optional(LocationFields.latitude),
    locality: Type.Optional(LocationFields.locality),
    longitude: Type.Optional(LocationFields.longitude),
    name: LocationFields.name,
    phoneNumber: Type.Optional(LocationFields.phoneNumber),
    postalCode: Type.Optional(LocationFields.postalCode),
    region: Type.Optional(LocationFields.region),
    slug: Type.Optional(
      Type.String({ ...slugOptions, description: `${slugOptions.description}; defaults to one made from the name` }),
    ),
    streetAddress: Type.Optional(LocationFields.streetAddress),
    streetAddress2: Type.Optional(LocationFields.streetAddress2),
    timezone: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: "IANA time zone; defaults to the organization's",
        examples: ['Australia/Melbourne'],
      }),
    ),
  },
  { additionalProperties: false, $id: 'CreateLocation', title: 'CreateLocation', 'x-extension': true },
);
export type CreateLocationBody = Static<typeof CreateLocationBodySchema>;

export const UpdateLocationBodySchema = Type.Object(
  {
    country: Type.Optional(Nullable(LocationFields.country)),
    latitude: Type.Optional(Nullable(LocationFields.latitude)),
    locality: Type.Optional(Nullable(LocationFields.locality)),
    longitude: Type.Optional(Nullable(LocationFields.longitude)),
    name: Type.Optional(LocationFields.name),
    phoneNumber: Type.Optional(Nullable(LocationFields.phoneNumber)),
    postalCode: Type.Optional(Nullable(LocationFields.postalCode)),
    region: Type.Optional(Nullable(LocationFields.region)),
    slug: Type.Optional(LocationFields.slug),
    streetAddress: Type.Optional(Nullable(LocationFields.streetAddress)),
    streetAddress2: Type.Optional(Nullable(LocationFields.streetAddress2)),
    timezone: Type.Optional(LocationFields.timezone),
  },
  { additionalProperties: false, $id: 'UpdateLocation', title: 'UpdateLocation', 'x-extension': true },
);
export type UpdateLocationBody = Static<typeof UpdateLocationBodySchema>;
