import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { HostResolver } from '../src/webhooks/url-policy.js';
import { describeEachBackend } from './helpers/backends.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

// The committed document, checked by an independent validator (Ajv in strict mode with ajv-formats), against the
// server: every generated input the document admits must pass the server's validation, and every one it refuses must
// be a 400 there.

type Schema = Record<string, unknown>;
interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required?: boolean;
  schema: Schema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, { schema: Schema }> };
}

const DOCUMENT_ID = 'https://customers-api.test/openapi.json';
const document = JSON.parse(readFileSync(new URL('../docs/openapi.json', import.meta.url), 'utf8')) as {
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, unknown>;
};

const ajv = new Ajv2020({ strict: true, allErrors: true });
formats.default(ajv);
ajv.addKeyword('x-extension');
ajv.addKeyword('components');
ajv.addSchema({ $id: DOCUMENT_ID, components: document.components });

/** `#/components/...` references made absolute, so a fragment of the document compiles on its own. */
function absolute(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(absolute);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema).map(([key, value]) => [
      key,
      key === '$ref' && typeof value === 'string' && value.startsWith('#/')
        ? `${DOCUMENT_ID}${value}`
        : absolute(value),
    ]),
  );
}

const compiled = new Map<string, ReturnType<typeof ajv.compile>>();
function admits(schema: Schema, value: unknown): boolean {
  const key = JSON.stringify(schema);
  let validate = compiled.get(key);
  if (!validate) {
    validate = ajv.compile(absolute(schema) as Schema);
    compiled.set(key, validate);
  }
  return validate(value) === true;
}

function resolve(schema: Schema): Schema {
  const ref = schema.$ref;
  if (typeof ref !== 'string') return schema;
  const name = ref.split('/').pop()!;
  return resolve((document.components as { schemas: Record<string, Schema> }).schemas[name]!);
}

// Strings tried, in order, for a value the schema admits: realistic ones first, so a field the server checks beyond
// the document (a phone number) gets one it takes too.
const STRINGS = [
  '+61411222333',
  'john@example.com',
  '2021-10-20',
  '2021-10-20T14:51:16Z',
  'https://hooks.example.com/x',
];
const MORE_STRINGS = ['1', '10', 'a', 'abc', 'customer.created', 'AUD', 'Australia/Melbourne', 'x'];

/** A value `schema` admits, or undefined when none of the candidates is one. */
function sample(raw: Schema, depth = 0): unknown {
  const schema = resolve(raw);
  if (depth > 6) return undefined;
  const candidates: unknown[] = [];
  if (Array.isArray(schema.examples)) candidates.push(...(schema.examples as unknown[]));
  if (Array.isArray(schema.enum)) candidates.push(...(schema.enum as unknown[]));
  if ('const' in schema) candidates.push(schema.const);
  for (const branch of [...((schema.anyOf as Schema[]) ?? []), ...((schema.oneOf as Schema[]) ?? [])]) {
    candidates.push(sample(branch, depth + 1));
  }
  const type = schema.type;
  if (type === 'string') candidates.push(...STRINGS, ...MORE_STRINGS);
  if (type === 'integer' || type === 'number') candidates.push(1, 50, 100, -1, 0);
  if (type === 'boolean') candidates.push(true);
  if (type === 'array') candidates.push([], [sample(schema.items as Schema, depth + 1)]);
  if (type === 'object' || schema.properties) {
    const object: Record<string, unknown> = {};
    const properties = (schema.properties ?? {}) as Record<string, Schema>;
    for (const name of (schema.required as string[]) ?? []) object[name] = sample(properties[name] ?? {}, depth + 1);
    candidates.push(object, {});
  }
  return candidates.find((candidate) => candidate !== undefined && admits(raw, candidate));
}

/** Values `schema` refuses: wrong types, bounds and formats just past what it admits. */
function refusals(raw: Schema): unknown[] {
  const schema = resolve(raw);
  const candidates: unknown[] = [null, true, 12.5, {}, [], 'not valid: ~'];
  if (typeof schema.maxLength === 'number') candidates.push('x'.repeat(schema.maxLength + 1));
  if (typeof schema.minLength === 'number' && schema.minLength > 0) candidates.push('');
  if (typeof schema.minimum === 'number') candidates.push(schema.minimum - 1);
  if (typeof schema.maximum === 'number') candidates.push(schema.maximum + 1);
  if (schema.type === 'integer') candidates.push(0, 1.5);
  if (schema.type === 'string') candidates.push(7, '0', '-1', '2021-02-30', 'john@', '1001', '00');
  return [...new Set(candidates.map((c) => JSON.stringify(c)))]
    .map((c) => JSON.parse(c) as unknown)
    .filter((candidate) => !admits(raw, candidate))
    .slice(0, 4);
}

// Constraints the document states in words because JSON Schema cannot (the server still enforces them, with a 400):
// an opaque cursor must be one the server made; a phone number must be a real one; email and phoneNumber search
// exclude each other. Generated values avoid them rather than pretend the document checks them.
const OPAQUE_PARAMETERS = new Set(['after']);
// RFC 6749 / OpenID endpoints take forms and answer with OAuth errors, not the API's; oauth-bad-input.test.ts covers them.
const OAUTH_PATHS = /^\/(token|revoke|authorize|jwks|\.well-known)/;

const fakeDns: HostResolver = async () => [{ address: '93.184.216.34', family: 4 }];

await describeEachBackend('OpenAPI document and server agree on what is valid', (backend) => {
  let server: TestServer;
  let token: string;
  const ids: Record<string, string> = {};
  beforeAll(async () => {
    server = await startTestServer(backend, { RATE_LIMIT_PER_MINUTE: '0' }, { resolve: fakeDns });
    const org = await server.createOrganization('Agreement');
    token = await server.createToken([org.id], ['customers:read', 'customers:write', 'webhooks:manage']);
    const customer = await server.createCustomer(org.id, {}, token);
    const list = await server.request<{ id: string }>('POST', `/organizations/${org.id}/customer-lists`, {
      token,
      body: { name: 'Agreement' },
    });
    const location = await server.request<{ id: string }>('POST', `/organizations/${org.id}/locations`, {
      token,
      body: { name: 'Agreement' },
    });
    Object.assign(ids, {
      organizationId: org.id,
      customerId: customer.id,
      listId: list.body.id,
      locationId: location.body.id,
      paymentId: 'agreement-payment',
      ref: 'agreement-hook',
      reference: 'agreement-ref',
      deliveryId: '01JNOPE0000000000000000000',
    });
  });
  afterAll(async () => server?.close());

  it('for every operation, in parameters and bodies', async () => {
    const disagreements: string[] = [];
    let checked = 0;
    for (const [template, operations] of Object.entries(document.paths)) {
      if (OAUTH_PATHS.test(template)) continue;
      for (const [method, operation] of Object.entries(operations)) {
        const path = template.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(ids[name] ?? 'x'));
        const query = (operation.parameters ?? []).filter((p) => p.in === 'query');
        const bodySchema = operation.requestBody?.content['application/json']?.schema;
        const baseBody = bodySchema ? sample(bodySchema) : undefined;
        const send = async (params: Record<string, string>, body: unknown) => {
          const search = new URLSearchParams(params).toString();
          const response = await server.request(method.toUpperCase(), `${path}${search ? `?${search}` : ''}`, {
            token,
            ...(bodySchema ? { body } : {}),
          });
          return response;
        };
        const expectOutcome = async (what: string, valid: boolean, params: Record<string, string>, body: unknown) => {
          checked++;
          const response = await send(params, body);
          const accepted = response.status !== 400;
          if (accepted !== valid) {
            disagreements.push(
              `${method.toUpperCase()} ${template} ${what}: document ${valid ? 'admits' : 'refuses'}, server ${response.status} ${response.text.slice(0, 200)}`,
            );
          }
        };

        for (const parameter of query) {
          if (!OPAQUE_PARAMETERS.has(parameter.name)) {
            const value = sample(parameter.schema);
            if (typeof value === 'string')
              await expectOutcome(`${parameter.name}=${value}`, true, { [parameter.name]: value }, baseBody);
          }
          for (const bad of refusals(parameter.schema).filter((v): v is string => typeof v === 'string')) {
            await expectOutcome(`${parameter.name}=${bad}`, false, { [parameter.name]: bad }, baseBody);
          }
        }
        if (!bodySchema) continue;
        if (baseBody === undefined) {
          disagreements.push(`${method.toUpperCase()} ${template}: no valid body could be generated`);
          continue;
        }
        await expectOutcome('the minimal body', true, {}, baseBody);
        const schema = resolve(bodySchema);
        const properties = (schema.properties ?? {}) as Record<string, Schema>;
        for (const [name, propertySchema] of Object.entries(properties)) {
          const value = sample(propertySchema);
          if (value !== undefined) {
            const body = { ...(baseBody as object), [name]: value };
            if (admits(bodySchema, body)) await expectOutcome(`body ${name}=${JSON.stringify(value)}`, true, {}, body);
          }
          for (const bad of refusals(propertySchema)) {
            const body = { ...(baseBody as object), [name]: bad };
            if (!admits(bodySchema, body)) await expectOutcome(`body ${name}=${JSON.stringify(bad)}`, false, {}, body);
          }
        }
        if (schema.additionalProperties === false) {
          await expectOutcome('an unknown body field', false, {}, { ...(baseBody as object), notAField: 1 });
        }
      }
    }
    expect(disagreements).toEqual([]);
    expect(checked).toBeGreaterThan(200);
  });
});
