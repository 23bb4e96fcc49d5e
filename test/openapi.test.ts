import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatOpenApiDocument, generateOpenApiDocument } from '../src/cli/openapi-document.js';
import { ERROR_CATALOG } from '../src/errors.js';
import { SEED_OPERATIONS } from '../src/http/plugins/openapi.js';
import { availableBackends } from './helpers/backends.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const COMMITTED = new URL('../docs/openapi.json', import.meta.url);

interface Operation {
  operationId?: string;
  tags?: string[];
  security?: unknown[];
  parameters?: { in: string; name: string }[];
  responses: Record<string, { description: string; content?: Record<string, { schema: Record<string, unknown> }> }>;
  'x-extension'?: boolean;
  'x-scope'?: string;
}
interface Document {
  openapi: string;
  servers: { url: string }[];
  security: Record<string, unknown>[];
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
}

/** Method and OpenAPI-style path of every route, read from Fastify's own route tree. */
function parseRouteTree(tree: string): { method: string; path: string }[] {
  const routes: { method: string; path: string }[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^([│ ]*)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    stack.length = depth;
    stack.push(match[2]!);
    if (match[3] === undefined) continue;
    const path = stack.join('').replace(/:(\w+)/g, '{$1}');
    for (const method of match[3].split(', ')) routes.push({ method, path });
  }
  return routes;
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

function operations(document: Document): [string, string, Operation][] {
  return Object.entries(document.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]): [string, string, Operation] => [method, path, operation]),
  );
}

const OAUTH_PUBLIC_PATHS = [
  '/.well-known/openid-configuration',
  '/jwks',
  '/token',
  '/revoke',
  '/authorize',
  '/authorize/style.css',
  '/authorize/icon.svg',
];

describe('OpenAPI document', () => {
  let document: Document;
  beforeAll(async () => {
    document = (await generateOpenApiDocument()) as unknown as Document;
  });

  it('is committed at docs/openapi.json and up to date', () => {
    const committed = fs.existsSync(COMMITTED) ? fs.readFileSync(COMMITTED, 'utf8') : '';
    expect(committed === formatOpenApiDocument(document), 'docs/openapi.json is out of date: run npm run openapi').toBe(
      true,
    );
  });

  it('is OpenAPI 3.1 with bearer or OAuth 2.0 auth required globally and servers', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.components.securitySchemes).toEqual({
      bearerAuth: expect.objectContaining({ type: 'http', scheme: 'bearer' }),
      oauth2: expect.objectContaining({
        type: 'oauth2',
        flows: {
          clientCredentials: {
            tokenUrl: 'http://127.0.0.1:3000/token',
            scopes: expect.objectContaining({ 'customers:read': expect.any(String) }),
          },
          authorizationCode: expect.objectContaining({
            authorizationUrl: 'http://127.0.0.1:3000/authorize',
            tokenUrl: 'http://127.0.0.1:3000/token',
            scopes: expect.objectContaining({ 'customers:write': expect.any(String) }),
          }),
        },
      }),
    });
    expect(document.security).toEqual([{ bearerAuth: [] }, { oauth2: [] }]);
    expect(document.servers.length).toBeGreaterThan(0);
  });

  it('documents every operation with a unique operationId, and opens only the public ones', () => {
    const ids = operations(document).map(([, , op]) => op.operationId);
    expect(ids.every((id) => typeof id === 'string' && id.length > 0)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    for (const [, path, op] of operations(document)) {
      const isPublic = ['/healthz', '/readyz', '/metrics', ...OAUTH_PUBLIC_PATHS].includes(path);
      const scope = op['x-scope'] as string;
      // Any valid token may ask what it grants, whatever its scopes.
      const anyToken = path === '/token-info';
      expect(op.security, `${op.operationId} security`).toEqual(
        isPublic ? [] : [{ bearerAuth: [] }, { oauth2: anyToken ? [] : [scope] }],
      );
      if (anyToken) expect(scope).toBeUndefined();
      else if (!isPublic) expect(scope, `${op.operationId} scope`).toMatch(/^(customers|webhooks):/);
      if (!isPublic) expect(op.responses['429']?.description, `${op.operationId} 429`).toContain('`rate_limited`');
    }
  });

  it('marks every operation outside the seed as an extension, and no seed operation', () => {
    for (const [, , op] of operations(document)) {
      if (SEED_OPERATIONS.has(op.operationId!)) expect(op['x-extension'], op.operationId).toBeUndefined();
      else expect(op['x-extension'], op.operationId).toBe(true);
    }
    const seen = new Set(operations(document).map(([, , op]) => op.operationId));
    for (const id of SEED_OPERATIONS) expect(seen.has(id), id).toBe(true);
    expect(document.paths['/organizations/{organizationId}/customers']!.post!['x-extension']).toBe(true);
  });

  it('turns the shared $id schemas into components referenced by $ref', () => {
    for (const name of [
      'Customer',
      'CustomerStatistics',
      'CustomerTiny',
      'CustomerListTiny',
      'Organization',
      'Error',
    ]) {
      expect(document.components.schemas[name], name).toMatchObject({ type: 'object', title: name });
    }
    const customer = document.components.schemas.Customer as { properties: Record<string, unknown> };
    expect(customer.properties.statistics).toEqual({ $ref: '#/components/schemas/CustomerStatistics' });
    const get = document.paths['/organizations/{organizationId}/customers/{customerId}']!.get!;
    expect(get.responses['200']!.content!['application/json']!.schema).toEqual({
      $ref: '#/components/schemas/Customer',
    });
    expect(get.parameters!.map((p) => `${p.in}:${p.name}`).sort()).toEqual(['path:customerId', 'path:organizationId']);
    const list = document.paths['/organizations/{organizationId}/customers']!.get!;
    expect(
      list
        .parameters!.filter((p) => p.in === 'query')
        .map((p) => p.name)
        .sort(),
    ).toEqual([
      'after',
      'createdAfter',
      'createdBefore',
      'email',
      'gender',
      'hasAgreedToMarketing',
      'limit',
      'listId',
      'phoneNumber',
      'pointsBalanceMax',
      'pointsBalanceMin',
      'q',
      'sort',
      'totalSpendMax',
      'totalSpendMin',
      'updatedAfter',
      'updatedBefore',
    ]);
    expect(JSON.stringify(document)).not.toMatch(/def-\d/);
  });

  it('documents error responses with the shared Error schema and the catalog codes of their status', () => {
    let errorResponses = 0;
    for (const [, path, op] of operations(document)) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue;
        if (path === '/authorize') {
          // The browser-facing authorization endpoint answers HTML pages, errors included.
          expect(Object.keys(response.content!), `${op.operationId} ${status}`).toEqual(['text/html']);
          expect(response.description).not.toMatch(/^Error\./);
          continue;
        }
        if (op.tags?.includes('OAuth')) {
          // The protocol endpoints answer RFC 6749 errors, not the API's error body.
          expect(response.content!['application/json']!.schema).toEqual({ $ref: '#/components/schemas/OAuthError' });
          expect(response.description).toMatch(status === '401' ? /`invalid_client`/ : /`invalid_request`/);
          continue;
        }
        errorResponses++;
        expect(response.content!['application/json']!.schema).toEqual({ $ref: '#/components/schemas/Error' });
        const codes = Object.entries(ERROR_CATALOG)
          .filter(([, e]) => e.status === Number(status))
          .map(([code]) => code);
        expect(codes.length, `status ${status} is in the catalog`).toBeGreaterThan(0);
        for (const code of codes) expect(response.description, `${op.operationId} ${status}`).toContain(`\`${code}\``);
      }
    }
    expect(errorResponses).toBeGreaterThan(20);
    const conflict = document.paths['/organizations/{organizationId}/customers']!.post!.responses['409']!.description;
    expect(conflict).toContain('`conflict`');
  });

  it("passes Spectral's OpenAPI ruleset with no errors", async () => {
    const run = promisify(execFile);
    const bin = new URL('../node_modules/.bin/spectral', import.meta.url).pathname;
    const config = new URL('../.spectral.yaml', import.meta.url).pathname;
    const { stdout } = await run(
      bin,
      ['lint', COMMITTED.pathname, '--ruleset', config, '--format', 'json', '--quiet'],
      {
        maxBuffer: 16 * 1024 * 1024,
      },
    ).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '[]' }));
    const problems = JSON.parse(stdout || '[]') as { severity: number; code: string; path: string[] }[];
    expect(problems.filter((p) => p.severity === 0)).toEqual([]);
  }, 60_000);
});

describe('OpenAPI over HTTP', async () => {
  const [backend] = await availableBackends();
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(backend!);
  });
  afterAll(async () => server?.close());

  it('serves /openapi.json without a token, equal to the generated document', async () => {
    const response = await server.request<Document>('GET', '/openapi.json');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.body).toEqual(await generateOpenApiDocument());
  });

  it('serves the interactive documentation at /docs', async () => {
    const response = await server.request('GET', '/docs/');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/html/);
    expect(response.text).toContain('swagger');
  });

  it('documents every registered route', async () => {
    const document = (await server.request<Document>('GET', '/openapi.json')).body;
    const routes = parseRouteTree(server.app.printRoutes({ commonPrefix: false }))
      .filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS')
      .filter((r) => r.path !== '/openapi.json' && !r.path.startsWith('/docs'))
      // The console's static files are a web app, not API operations.
      .filter((r) => !r.path.startsWith('/console'));
    expect(routes.length).toBeGreaterThanOrEqual(10);
    const missing = routes.filter((r) => document.paths[r.path]?.[r.method.toLowerCase()] === undefined);
    expect(missing).toEqual([]);
    expect(operations(document).length).toBe(routes.length);
  });
});
