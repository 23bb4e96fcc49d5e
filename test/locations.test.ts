import { Value } from '@sinclair/typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustomersApiError, CustomersClient } from '../src/client/index.js';
import { LocationSchema, LocationTinySchema, type Location } from '../src/contract/locations.js';
import { isCountryCode, isTimeZone, slugify } from '../src/domain/locations/location-input.js';
import { describeEachBackend } from './helpers/backends.js';
import { runCli } from './helpers/cli.js';
import { createTenant, expectError, readAllPages, type ErrorBody } from './helpers/fixtures.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';
import { LOKE_LOCATION_EXAMPLE, LOKE_PAYMENT_WEBHOOK_LOCATION_EXAMPLE } from './fixtures/loke-examples.js';

describe('location input rules', () => {
  it('knows ISO 3166-1 alpha-2 codes and IANA zones', () => {
    for (const code of ['AU', 'NZ', 'US', 'GB', 'SS']) expect(isCountryCode(code)).toBe(true);
    for (const code of ['UK', 'EU', 'XK', 'ZZ', 'AA', 'au', 'AUS', 'A1']) expect(isCountryCode(code)).toBe(false);
    expect(isTimeZone('Australia/Melbourne')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    for (const zone of ['Mars/Olympus', '+10:00', '', 'Australia/Melbourne ']) expect(isTimeZone(zone)).toBe(false);
    expect(slugify('  St Kilda Rd & Café No. 2 ')).toBe('st-kilda-rd-cafe-no-2');
  });

  it("accepts LOKE's documented location examples", () => {
    expect(Value.Check(LocationSchema, LOKE_LOCATION_EXAMPLE)).toBe(true);
    expect(Value.Check(LocationTinySchema, LOKE_PAYMENT_WEBHOOK_LOCATION_EXAMPLE)).toBe(true);
  });
});

await describeEachBackend('locations', (backend) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend);
  });
  afterAll(async () => server?.close());

  const base = (orgId: string) => `/organizations/${orgId}/locations`;
  const stored = (orgId: string) =>
    server.store.db.selectFrom('locations').selectAll().where('organization_id', '=', orgId).orderBy('id').execute();

  async function create(orgId: string, token: string, body: Record<string, unknown>): Promise<Location> {
    const response = await server.request<Location>('POST', base(orgId), { token, body });
    expect(response.status, response.text).toBe(201);
    return response.body;
  }

  it('creates, reads, updates and lists locations in the LOKE shape, omitting absent fields', async () => {
    const { orgId, read, write } = await createTenant(server);
    const full = await create(orgId, write, {
      name: 'Richmond',
      streetAddress: '2 Simpson Street',
      locality: 'Cremorne',
      region: 'Victoria',
      postalCode: '3185',
      country: 'au',
      phoneNumber: '0434820888',
      latitude: -37.8236,
      longitude: 144.9913,
      timezone: 'Australia/Melbourne',
    });
    expect(full).toEqual({
      country: 'AU',
      id: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      latitude: -37.8236,
      locality: 'Cremorne',
      longitude: 144.9913,
      name: 'Richmond',
      phoneNumber: '0434820888',
      postalCode: '3185',
      region: 'Victoria',
      slug: 'richmond',
      streetAddress: '2 Simpson Street',
      timezone: 'Australia/Melbourne',
    });
    expect(Value.Check(LocationSchema, full)).toBe(true);

    // Only a name: slug from the name, timezone from the organization, nothing else present (not null).
    const bare = await create(orgId, write, { name: 'South Yarra Kiosk' });
    expect(bare).toEqual({
      id: bare.id,
      name: 'South Yarra Kiosk',
      slug: 'south-yarra-kiosk',
      timezone: 'Australia/Melbourne',
    });

    const got = await server.request<Location>('GET', `${base(orgId)}/${full.id}`, { token: read });
    expect(got.status).toBe(200);
    expect(got.body).toEqual(full);

    const patched = await server.request<Location>('PATCH', `${base(orgId)}/${full.id}`, {
      token: write,
      body: { name: 'Richmond Station', region: null, latitude: null, slug: 'richmond-station' },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body).toEqual({
      ...full,
      name: 'Richmond Station',
      slug: 'richmond-station',
      region: undefined,
      latitude: undefined,
    });
    expect(Object.keys(patched.body)).not.toContain('region');
    const rows = await stored(orgId);
    expect(rows.find((r) => r.id === full.id)).toMatchObject({
      name: 'Richmond Station',
      name_search: 'richmond station',
      region: null,
      latitude: null,
      slug: 'richmond-station',
    });

    const listed = await server.request<Location[]>('GET', base(orgId), { token: read });
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([patched.body, bare]);
    expect(listed.headers.get('x-next-page')).toBeNull();
  });

  it('searches names case-insensitively, with % and _ taken literally, and pages by 100', async () => {
    const { orgId, read, write } = await createTenant(server);
    const names = ['Richmond', 'RICHMOND Hill', 'North Richmond', 'Carlton', '100% Juice', 'under_score'];
    for (const name of names) await create(orgId, write, { name });
    const search = async (query: string) => {
      const response = await server.request<Location[]>('GET', `${base(orgId)}?query=${encodeURIComponent(query)}`, {
        token: read,
      });
      expect(response.status).toBe(200);
      return response.body.map((l) => l.name);
    };
    expect(await search('richMOND')).toEqual(['Richmond', 'RICHMOND Hill', 'North Richmond']);
    expect(await search('%')).toEqual(['100% Juice']);
    expect(await search('_')).toEqual(['under_score']);
    expect(await search('nowhere')).toEqual([]);
    expect(await search('')).toHaveLength(names.length);

    const many = await createTenant(server);
    const rows = Array.from({ length: 205 }, (_, i) => ({
      organization_id: many.orgId,
      id: `01J${String(i).padStart(23, '0')}`,
      name: `Venue ${i}`,
      name_search: `venue ${i}`,
      slug: `venue-${i}`,
      timezone: 'Australia/Sydney',
      phone_number: null,
      street_address: null,
      street_address2: null,
      locality: null,
      region: null,
      postal_code: null,
      country: null,
      latitude: null,
      longitude: null,
      created_at: 1,
      updated_at: 1,
    }));
    await server.store.db.insertInto('locations').values(rows).execute();
    const first = await server.request<Location[]>('GET', base(many.orgId), { token: many.read });
    expect(first.body).toHaveLength(100);
    expect(first.headers.get('x-next-page')).toMatch(/after=/);
    const all = await readAllPages<Location>(server, base(many.orgId), many.read);
    expect(all.map((l) => l.id)).toEqual(rows.map((r) => r.id));
    const searched = await readAllPages<Location>(server, `${base(many.orgId)}?query=venue%201&limit=5`, many.read);
    expect(searched.map((l) => l.name)).toEqual(rows.map((r) => r.name).filter((n) => n.includes('Venue 1')));

    const tampered = await server.request('GET', `${base(many.orgId)}?after=abc.def`, { token: many.read });
    expectError(tampered, 400, 'bad_request');
    const next = new URL(first.headers.get('x-next-page')!);
    const otherQuery = await server.request(
      'GET',
      `${base(many.orgId)}?query=x&after=${next.searchParams.get('after')}`,
      { token: many.read },
    );
    expectError(otherQuery, 400, 'bad_request');
    expectError(await server.request('GET', `${base(many.orgId)}?limit=101`, { token: many.read }), 400, 'bad_request');
  });

  it('validates writes and changes nothing on bad input', async () => {
    const { orgId, write } = await createTenant(server);
    const taken = await create(orgId, write, { name: 'Fitzroy', slug: 'fitzroy' });
    const before = await stored(orgId);
    const cases: [Record<string, unknown>, string][] = [
      [{ name: 'X', timezone: 'Mars/Olympus' }, 'timezone'],
      [{ name: 'X', timezone: '+10:00' }, 'timezone'],
      [{ name: 'X', country: 'UK' }, 'country'],
      [{ name: 'X', country: 'Australia' }, 'country'],
      [{ name: 'X', latitude: 91 }, 'latitude'],
      [{ name: 'X', longitude: -180.5 }, 'longitude'],
      [{ name: 'X', latitude: '12' }, 'latitude'],
      [{ name: 'X', slug: 'Not A Slug' }, 'slug'],
      [{ name: '   ' }, 'name'],
      [{ name: '!!!' }, 'slug'],
      [{ streetAddress: 'no name' }, 'name'],
      [{ name: 'X', id: 'mine' }, 'id'],
    ];
    for (const [body, field] of cases) {
      const response = await server.request<ErrorBody>('POST', base(orgId), { token: write, body });
      expectError(response, 400, 'bad_request');
      expect(JSON.stringify(response.body), JSON.stringify(body)).toContain(field);
    }
    const duplicate = await server.request('POST', base(orgId), { token: write, body: { name: 'Fitzroy' } });
    expectError(duplicate, 409, 'conflict');
    const other = await create(orgId, write, { name: 'Collingwood' });
    const clash = await server.request('PATCH', `${base(orgId)}/${other.id}`, {
      token: write,
      body: { slug: taken.slug },
    });
    expectError(clash, 409, 'conflict');
    expectError(
      await server.request('PATCH', `${base(orgId)}/${other.id}`, { token: write, body: { country: 'ZZ' } }),
      400,
      'bad_request',
    );
    // Same slug on itself is no conflict; the slug is unique per organization only.
    const self = await server.request('PATCH', `${base(orgId)}/${taken.id}`, {
      token: write,
      body: { slug: 'fitzroy' },
    });
    expect(self.status).toBe(200);
    const elsewhere = await createTenant(server);
    expect((await create(elsewhere.orgId, elsewhere.write, { name: 'Fitzroy' })).slug).toBe('fitzroy');
    const after = await stored(orgId);
    expect(after.filter((r) => r.id !== other.id)).toEqual(before);
  });

  it('answers 401, 403 and 404 as the rest of the API does', async () => {
    const { orgId, read, write } = await createTenant(server);
    const location = await create(orgId, write, { name: 'Brunswick' });
    expectError(await server.request('GET', base(orgId), { token: null }), 401, 'unauthorized');
    expectError(await server.request('POST', base(orgId), { token: read, body: { name: 'X' } }), 403, 'forbidden');
    expectError(
      await server.request('PATCH', `${base(orgId)}/${location.id}`, { token: read, body: { name: 'X' } }),
      403,
      'forbidden',
    );
    expectError(await server.request('GET', `${base(orgId)}/nope`, { token: read }), 404, 'not_found');
    expectError(
      await server.request('PATCH', `${base(orgId)}/nope`, { token: write, body: { name: 'X' } }),
      404,
      'not_found',
    );
    const stranger = await createTenant(server);
    expectError(
      await server.request('GET', `${base(orgId)}/${location.id}`, { token: stranger.read }),
      404,
      'not_found',
    );
    expectError(await server.request('GET', base(orgId), { token: stranger.read }), 404, 'not_found');
  });

  it('is reachable through the SDK as client.locations', async () => {
    const { orgId, read, write } = await createTenant(server);
    const writer = new CustomersClient({ baseUrl: server.baseUrl, token: write });
    const reader = new CustomersClient({ baseUrl: server.baseUrl, token: read });
    const created = await writer.locations.create(orgId, { name: 'Hawthorn', country: 'AU' });
    expect(created).toMatchObject({ name: 'Hawthorn', slug: 'hawthorn', country: 'AU' });
    const updated = await writer.locations.update(orgId, created.id, { country: null, locality: 'Hawthorn' });
    expect(updated).toEqual({
      id: created.id,
      locality: 'Hawthorn',
      name: 'Hawthorn',
      slug: 'hawthorn',
      timezone: created.timezone,
    });
    expect(await reader.locations.get(orgId, created.id)).toEqual(updated);
    await writer.locations.create(orgId, { name: 'Kew' });
    expect((await reader.locations.list(orgId, { query: 'HAW', limit: 1 }).toArray()).map((l) => l.id)).toEqual([
      created.id,
    ]);
    expect((await reader.locations.list(orgId, { limit: 1 }).toArray()).length).toBe(2);
    const conflict = await writer.locations.create(orgId, { name: 'Kew' }).catch((error: unknown) => error);
    expect(conflict).toBeInstanceOf(CustomersApiError);
    expect((conflict as CustomersApiError).status).toBe(409);
    expect((await stored(orgId)).map((r) => r.name)).toEqual(['Hawthorn', 'Kew']);
  });

  it('creates and lists locations from the CLI', async () => {
    const { orgId, read } = await createTenant(server);
    const env = { DATABASE_URL: server.databaseUrl };
    const created = await runCli(
      ['location', 'create', '--org', orgId, '--name', 'Prahran', '--country', 'AU', '--latitude=-37.85', '--json'],
      env,
    );
    expect(created.code, created.stderr).toBe(0);
    const location = JSON.parse(created.stdout) as Location;
    expect(location).toMatchObject({ name: 'Prahran', country: 'AU', latitude: -37.85, slug: 'prahran' });
    const got = await server.request<Location>('GET', `${base(orgId)}/${location.id}`, { token: read });
    expect(got.body).toEqual(location);

    const bad = await runCli(['location', 'create', '--org', orgId, '--name', 'X', '--country', 'UK'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/country/);
    const duplicate = await runCli(['location', 'create', '--org', orgId, '--name', 'Prahran'], env);
    expect(duplicate.code).toBe(2);
    expect(duplicate.stderr).toMatch(/slug/);

    const listed = await runCli(['location', 'list', '--org', orgId, '--query', 'PRAH'], env);
    expect(listed.code, listed.stderr).toBe(0);
    expect(listed.stdout).toContain(`${location.id}  prahran  Prahran`);
    expect((await stored(orgId)).length).toBe(1);
  });
});
