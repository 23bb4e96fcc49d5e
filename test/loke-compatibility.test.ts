import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Customer } from '../src/contract/customers.js';
import type { Organization } from '../src/contract/organizations.js';
import { describeEachBackend } from './helpers/backends.js';
import { createTenant, expectError, expectErrorJson, readAllPages } from './helpers/fixtures.js';
import { digestStore } from './helpers/store-digest.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

interface NodeResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** A request through `node:http` that writes `body` in chunks as a streaming client would, with Content-Length. */
function nodeHttpPost(port: number, path: string, headers: Record<string, string>, body: Buffer) {
  return new Promise<NodeResponse>((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent: false,
        headers: { ...headers, 'content-length': String(body.length) },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            headers: response.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    // 64 KiB at a time with a pause between, as a client on a real network sends: the server has answered long
    // before the last byte is written.
    const chunk = 64 * 1024;
    const writeFrom = (offset: number) => {
      if (offset >= body.length) {
        request.end();
        return;
      }
      request.write(body.subarray(offset, offset + chunk), (error) => {
        if (!error) setTimeout(() => writeFrom(offset + chunk), 2);
      });
    };
    writeFrom(0);
  });
}

await describeEachBackend('LOKE compatibility: HTTP details a generic client relies on', (backend) => {
  let server: TestServer;
  let orgId: string;
  let write: string;
  beforeAll(async () => {
    server = await startTestServer(backend);
    ({ orgId, write } = await createTenant(server));
  });
  afterAll(async () => server?.close());

  const customers = () => `/organizations/${orgId}/customers`;

  describe('If-Match (RFC 9110 §13.1.1, strong comparison)', () => {
    it('answers a weak validator of the current ETag with 412 and changes nothing; the strong tag applies', async () => {
      const created = await server.request<Customer>('POST', customers(), {
        token: write,
        body: { firstName: 'Weak', lastName: 'Tag' },
      });
      const etag = created.headers.get('etag')!;
      const before = await digestStore(server.store);
      for (const ifMatch of [`W/${etag}`, `"other", W/${etag}`]) {
        expectError(
          await server.request('PATCH', `${customers()}/${created.body.id}`, {
            token: write,
            body: { firstName: 'Changed' },
            headers: { 'if-match': ifMatch },
          }),
          412,
          'precondition_failed',
        );
      }
      expect(await digestStore(server.store)).toBe(before);
      const strong = await server.request<Customer>('PATCH', `${customers()}/${created.body.id}`, {
        token: write,
        body: { firstName: 'Changed' },
        headers: { 'if-match': etag },
      });
      expect(strong.status).toBe(200);
      expect(strong.body.firstName).toBe('Changed');
    });
  });

  describe('request content types', () => {
    const body = JSON.stringify({ firstName: 'Typed', lastName: 'Body' });
    it.each([
      ['text/plain;charset=UTF-8', 'what fetch sends for a string body'],
      ['text/plain', 'plain text'],
      ['application/x-www-form-urlencoded', 'a form, on an API route'],
      ['multipart/form-data; boundary=x', 'a multipart form'],
      ['application/xml', 'XML'],
      ['application/octet-stream', 'bytes'],
    ])('answers a %s body (%s) with 415 unsupported_media_type and stores nothing', async (type) => {
      const before = await digestStore(server.store);
      const response = await server.request('POST', customers(), {
        token: write,
        rawBody: body,
        headers: { 'content-type': type },
      });
      expect(expectErrorJson(response, 415).type).toBe('unsupported_media_type');
      expect(await digestStore(server.store)).toBe(before);
    });

    it('answers a body without a content type with 415, and takes application/json with a charset', async () => {
      const missing = await fetch(`${server.baseUrl}${customers()}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${write}` },
        body: new Blob([body]),
      });
      expect(missing.status).toBe(415);
      expect(((await missing.json()) as { type: string }).type).toBe('unsupported_media_type');
      const json = await server.request('POST', customers(), {
        token: write,
        rawBody: body,
        headers: { 'content-type': 'application/json; charset=utf-8' },
      });
      expect(json.status).toBe(201);
    });

    it('still takes the form body of the OAuth token endpoint (RFC 6749)', async () => {
      const response = await server.request('POST', '/token', {
        token: null,
        rawBody: 'grant_type=client_credentials&client_id=nobody&client_secret=wrong',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      // An unknown client is the OAuth error, not a media type error: the form was read.
      expect(response.status).toBe(401);
      expect((response.body as { error: string }).error).toBe('invalid_client');
    });
  });

  describe('a body over the limit', () => {
    it('answers a 2 MB node:http POST with Content-Length with the 413 JSON, 20 runs out of 20', async () => {
      const payload = Buffer.from(JSON.stringify({ firstName: 'x'.repeat(2_000_000 - 40), lastName: 'y' }));
      const before = await digestStore(server.store);
      const outcomes: string[] = [];
      for (let run = 0; run < 20; run++) {
        try {
          const response = await nodeHttpPost(
            server.port,
            customers(),
            { authorization: `Bearer ${write}`, 'content-type': 'application/json' },
            payload,
          );
          const error = JSON.parse(response.text) as { type: string };
          outcomes.push(`${response.status} ${error.type} ${response.headers.connection}`);
        } catch (error) {
          outcomes.push(`failed: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
        }
      }
      expect(outcomes).toEqual(Array.from({ length: 20 }, () => '413 payload_too_large close'));
      expect(await digestStore(server.store)).toBe(before);
    });

    it('answers an unauthenticated 2 MB POST with its 401 JSON, not a reset', async () => {
      const payload = Buffer.alloc(2_000_000, 'a');
      const response = await nodeHttpPost(server.port, customers(), { 'content-type': 'application/json' }, payload);
      expect(response.status).toBe(401);
      expect((JSON.parse(response.text) as { type: string }).type).toBe('unauthorized');
    });
  });
});

await describeEachBackend('LOKE compatibility: GET /organizations?query=', (backend) => {
  let server: TestServer;
  let token: string;
  const names = [
    'Café Royal',
    'ROYAL Arcade',
    'Loyal Bakery',
    '100% Organic',
    '100 Percent',
    'Under_Score',
    'Underscore',
  ];
  const ids = new Map<string, string>();
  beforeAll(async () => {
    server = await startTestServer(backend);
    for (const name of names) ids.set(name, (await server.createOrganization(name)).id);
    // Granted to nobody: its name matches, yet it never shows.
    await server.createOrganization('Royal Secret');
    token = await server.createToken([...ids.values()], ['customers:read']);
  });
  afterAll(async () => server?.close());

  const search = async (query: string, limit = 2) => {
    const found = await readAllPages<Organization>(
      server,
      `/organizations?query=${encodeURIComponent(query)}&limit=${limit}`,
      token,
    );
    return found.map((org) => org.name);
  };
  const sortedById = (...wanted: string[]) => [...wanted].sort((a, b) => (ids.get(a)! < ids.get(b)! ? -1 : 1));

  it('finds granted organizations by a case-insensitive substring of the name, paged', async () => {
    expect(await search('royal')).toEqual(sortedById('Café Royal', 'ROYAL Arcade'));
    expect(await search('oYaL', 1)).toEqual(sortedById('Café Royal', 'ROYAL Arcade', 'Loyal Bakery'));
    // Only A-Z fold, the same on both backends: other letters compare exactly.
    expect(await search('CAFé')).toEqual(['Café Royal']);
    expect(await search('CAFÉ')).toEqual([]);
    expect(await search('nothing like it')).toEqual([]);
    expect(await search('')).toHaveLength(names.length);
  });

  it('takes % and _ literally', async () => {
    expect(await search('%')).toEqual(['100% Organic']);
    expect(await search('0%')).toEqual(['100% Organic']);
    expect(await search('_')).toEqual(['Under_Score']);
    expect(await search('r_s')).toEqual(['Under_Score']);
  });

  it('keeps the Organization shape', async () => {
    const response = await server.request<Organization[]>('GET', '/organizations?query=arcade', { token });
    expect(response.status).toBe(200);
    expect(Object.keys(response.body[0]!)).toEqual(['id', 'name', 'currency', 'timezone', 'created']);
  });

  it('refuses a query longer than a name can be', async () => {
    expectError(await server.request('GET', `/organizations?query=${'a'.repeat(201)}`, { token }), 400, 'bad_request');
  });
});
