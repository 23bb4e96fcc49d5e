import type { TestServer } from './test-server.js';

/** The subset of JSON Schema the API's documents use. */
export interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  pattern?: string;
  format?: string;
  nullable?: boolean;
  [key: string]: unknown;
}

export interface OperationParameter {
  name: string;
  in: 'path' | 'query' | 'header';
  required: boolean;
  schema: JsonSchema;
}

export interface Operation {
  operationId: string;
  method: string;
  /** The path template, e.g. /organizations/{organizationId}/customers/{customerId}. */
  path: string;
  parameters: OperationParameter[];
  /** The resolved application/json request body schema, when the operation takes one. */
  body: JsonSchema | undefined;
  bodyRequired: boolean;
  /** False for public operations (health, docs). */
  authenticated: boolean;
}

interface OpenApiDocument {
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components?: { schemas?: Record<string, JsonSchema> };
  security?: unknown[];
}

const METHODS = new Set(['get', 'put', 'post', 'patch', 'delete']);

/** Inlines `$ref`s (to components/schemas) so a schema can be walked without the document. */
export function resolveSchema(document: OpenApiDocument, schema: JsonSchema, depth = 0): JsonSchema {
  if (depth > 20) return {};
  if (schema.$ref !== undefined) {
    const name = schema.$ref.replace(/^#\/components\/schemas\//, '');
    return resolveSchema(document, document.components?.schemas?.[name] ?? {}, depth + 1);
  }
  const resolved: JsonSchema = { ...schema };
  if (schema.properties) {
    resolved.properties = Object.fromEntries(
      Object.entries(schema.properties).map(([key, value]) => [key, resolveSchema(document, value, depth + 1)]),
    );
  }
  if (schema.items) resolved.items = resolveSchema(document, schema.items, depth + 1);
  for (const key of ['anyOf', 'oneOf', 'allOf'] as const) {
    const list = schema[key];
    if (list) resolved[key] = list.map((s) => resolveSchema(document, s, depth + 1));
  }
  return resolved;
}

/** Every operation of the server's live OpenAPI document (GET /openapi.json), so new routes are covered too. */
export async function listOperations(server: TestServer): Promise<Operation[]> {
  const response = await server.request<OpenApiDocument>('GET', '/openapi.json', { token: null });
  if (response.status !== 200) throw new Error(`GET /openapi.json: ${response.status}`);
  const document = response.body;
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    for (const [method, raw] of Object.entries(item)) {
      if (!METHODS.has(method)) continue;
      const operation = raw as {
        operationId?: string;
        parameters?: { name: string; in: string; required?: boolean; schema?: JsonSchema }[];
        requestBody?: { required?: boolean; content?: Record<string, { schema?: JsonSchema }> };
        security?: unknown[];
      };
      const jsonBody = operation.requestBody?.content?.['application/json']?.schema;
      const security = operation.security ?? document.security ?? [];
      operations.push({
        operationId: operation.operationId ?? `${method} ${path}`,
        method: method.toUpperCase(),
        path,
        parameters: (operation.parameters ?? [])
          .filter((p) => p.in === 'path' || p.in === 'query' || p.in === 'header')
          .map((p) => ({
            name: p.name,
            in: p.in as OperationParameter['in'],
            required: p.required ?? p.in === 'path',
            schema: resolveSchema(document, p.schema ?? {}),
          })),
        body: jsonBody ? resolveSchema(document, jsonBody) : undefined,
        bodyRequired: operation.requestBody?.required ?? false,
        authenticated: security.length > 0,
      });
    }
  }
  return operations;
}

/** The operation's URL with its path parameters filled in (each encoded) and the given query. */
export function operationUrl(
  operation: Operation,
  pathValues: (name: string) => string,
  query: Record<string, string> = {},
): string {
  const path = operation.path.replace(/\{([^}]+)\}/g, (_whole, name: string) => encodeURIComponent(pathValues(name)));
  const search = new URLSearchParams(query).toString();
  return search === '' ? path : `${path}?${search}`;
}
