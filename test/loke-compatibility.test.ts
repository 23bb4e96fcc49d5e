import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Customer } from '../src/contract/customers.js';
import { describeEachBackend } from './helpers/backends.js';
import { createTenant, expectError, expectErrorJson } from './helpers/fixtures.js';
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
