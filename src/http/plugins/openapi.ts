import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ERROR_CATALOG, type ErrorCode } from '../../errors.js';
import { SCOPES } from '../../domain/auth/token-service.js';
import { OAUTH_ERROR_CATALOG, type OAuthErrorCode } from '../../domain/oauth/oauth-errors.js';
import { SCOPE_DESCRIPTIONS } from '../../domain/oauth/scopes.js';
import { ErrorSchema } from '../../contract/common.js';
import { EVENT_PAYLOAD_SCHEMAS, EVENT_TYPES, type EventType } from '../../contract/events.js';

/** The operations of the LOKE Customers API reference (the seed); every other operation is ours. */
export const SEED_OPERATIONS: ReadonlySet<string> = new Set([
  'getCustomer',
  'listCustomers',
  'listCustomerMemberships',
]);

export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PREFIX = '/docs';

/** Error codes per HTTP status, straight from the catalog, so the document lists exactly what the server can send. */
function codesByStatus(): Map<number, ErrorCode[]> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of Object.keys(ERROR_CATALOG) as ErrorCode[]) {
    const { status } = ERROR_CATALOG[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  return byStatus;
}

export function describeErrorStatus(status: number): string {
  const codes = codesByStatus().get(status) ?? [];
  const lines = codes.map((code) => `- \`${code}\`: ${ERROR_CATALOG[code].description}`);
  return [`Error. \`type\` (and its alias \`code\`) is one of:`, ...lines].join('\n');
}

/** The protocol endpoints answer RFC 6749 errors; their responses list those codes instead. */
function describeOAuthErrorStatus(status: number): string {
  const codes = (Object.keys(OAUTH_ERROR_CATALOG) as OAuthErrorCode[]).filter(
    (code) => OAUTH_ERROR_CATALOG[code].status === status || (status === 400 && code === 'invalid_request'),
  );
  const lines = codes.map((code) => `- \`${code}\`: ${OAUTH_ERROR_CATALOG[code].description}`);
  return [`OAuth 2.0 error (RFC 6749 section 5.2). \`error\` is one of:`, ...lines].join('\n');
}

const SUCCESS_TEXT: Record<number, string> = { 200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content' };

const RETRY_AFTER = {
  'Retry-After': { type: 'string', description: 'Seconds to wait before retrying (RFC 9110 section 10.2.3).' },
};

const DESCRIPTION = `Self-hostable implementation of the LOKE Customers API.

Operations marked \`x-extension: true\` are not part of the LOKE Customers API reference; they are
platform or operator additions of this server. Errors are LOKE's
\`{type, message, instance, documentation}\` JSON (validation errors add \`details\`; \`code\` repeats \`type\`
for earlier clients); \`documentation\` is the absolute URL of the code's entry in the page \`/docs/errors\`.
Each error response below lists the codes that status can carry.

List endpoints return a bare array; when more data exists the response carries \`X-Next-Page\`, the
absolute URL of the next page. Its \`after\` cursor carries the listing's parameters: \`?after=<cursor>\` alone
continues the same listing (sort, search, limit), and a parameter given beside it that contradicts the cursor is a 400.

Request bodies are \`application/json\` only (other types are a 415); the OAuth endpoints take forms.`;

/** Our event types; the others are LOKE's. */
const EXTENSION_EVENTS: ReadonlySet<EventType> = new Set([
  'customer-list.created',
  'customer-list.updated',
  'customer-list.deleted',
]);

const WEBHOOK_HEADERS: [name: string, description: string][] = [
  ['X-Event-Signature', "sha256=<hex HMAC-SHA256 of the raw body keyed by the subscription's secret> (LOKE's)"],
  ['X-Event-Id', "The event's ULID: the same event sent twice has the same id"],
  ['X-Event-Sequence', "The event's place in the organization's feed"],
  ['X-Event-Type', 'The event field'],
  ['X-Event-Timestamp', 'Unix seconds when this attempt was sent'],
  ['X-Event-Timestamp-Signature', 'sha256=<hex HMAC-SHA256 of "<timestamp>.<raw body>">'],
  ['X-Event-Attempt', '1 for the first attempt, then 2, 3, ...'],
];

/**
 * The POSTs a subscription receives (OpenAPI 3.1 webhooks), one per event type, with the receiver answers that
 * decide what happens next: LOKE's rule, only no response or >= 500 is retried.
 */
function webhookOperations(): Record<string, unknown> {
  return Object.fromEntries(
    EVENT_TYPES.map((event) => [
      event,
      {
        post: {
          operationId: `webhook:${event}`,
          summary: `The ${event} event`,
          description:
            `POSTed to subscriptions of ${event}; the body is the payload exactly as the change feed holds it ` +
            '(the feed adds id, sequence and occurredAt). Verify X-Event-Signature over the raw bytes.',
          tags: ['Webhooks'],
          ...(EXTENSION_EVENTS.has(event) ? { 'x-extension': true } : {}),
          security: [],
          parameters: WEBHOOK_HEADERS.map(([name, description]) => ({
            name,
            in: 'header',
            required: true,
            description,
            schema: { type: 'string' },
          })),
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: { $ref: `#/components/schemas/${EVENT_PAYLOAD_SCHEMAS[event]}` } },
            },
          },
          responses: {
            '2XX': { description: 'Delivered: the subscription moves on to the next event.' },
            '3XX': {
              description: 'Rejected (redirects are not followed): recorded, not retried; the subscription moves on.',
            },
            '4XX': {
              description:
                'Rejected by the receiver: recorded with its status, not retried; the subscription moves on.',
            },
            '5XX': {
              description:
                'Failed, as is no response at all: retried after 10 s, 20 s, 40 s, ... up to WEBHOOK_MAX_ATTEMPTS (5).',
            },
          },
        },
      },
    ]),
  );
}

/** Routes declare response headers as a TypeBox object; @fastify/swagger wants a plain name-to-schema map. */
function headerMap(headers: unknown): Record<string, unknown> | undefined {
  if (headers === undefined || headers === null || typeof headers !== 'object') return undefined;
  const properties = (headers as { properties?: unknown }).properties;
  return properties !== undefined && typeof properties === 'object'
    ? (properties as Record<string, unknown>)
    : (headers as Record<string, unknown>);
}

interface RouteSchema {
  operationId?: string;
  response?: Record<string, unknown>;
  [key: string]: unknown;
}

/**
 * Registers @fastify/swagger (collecting routes through onRoute, so it must be
 * registered before them), `GET /openapi.json` and the UI at `/docs`. The
 * document itself is built lazily on the first request, so buildApp stays cheap.
 */
export async function registerOpenApi(
  app: FastifyInstance,
  options: { publicUrl: string | undefined; version: string },
) {
  const base = options.publicUrl ?? 'http://127.0.0.1:3000';
  const scopeDescriptions = Object.fromEntries(SCOPES.map((scope) => [scope, SCOPE_DESCRIPTIONS[scope]]));
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Customers API',
        version: options.version,
        description: DESCRIPTION,
        license: { name: 'MIT', identifier: 'MIT' },
      },
      servers: [
        options.publicUrl !== undefined
          ? { url: options.publicUrl, description: 'This server' }
          : { url: 'http://127.0.0.1:3000', description: 'A local server (customers-api serve)' },
      ],
      tags: [
        { name: 'Customers', description: 'Customers of an organization (LOKE Customers API).' },
        { name: 'Organizations', description: 'Organizations the bearer token grants.' },
        { name: 'Operations', description: 'Health, readiness and metrics for operators.' },
      ],
      components: {
        securitySchemes: {
          bearerAuth: {
            type: 'http',
            scheme: 'bearer',
            description: 'An API token created with `customers-api token create`.',
          },
          oauth2: {
            type: 'oauth2',
            description:
              "A JWT access token from this server's OpenID Connect issuer (discovery at `/.well-known/openid-configuration`), as LOKE add-ons get from auth.loke.global. Register clients with `customers-api client create`.",
            flows: {
              clientCredentials: { tokenUrl: `${base}/token`, scopes: scopeDescriptions },
              authorizationCode: {
                authorizationUrl: `${base}/authorize`,
                tokenUrl: `${base}/token`,
                refreshUrl: `${base}/token`,
                scopes: scopeDescriptions,
              },
            },
          },
        },
      },
      security: [{ bearerAuth: [] }, { oauth2: [] }],
      // A plain document fragment; @fastify/swagger copies it through as is.
      webhooks: webhookOperations() as never,
    },
    refResolver: {
      // Shared schemas keep their $id as component name, so $refs read #/components/schemas/Customer.
      buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`),
    },
    transformObject: (documentObject) => {
      // Tags of routes added by other modules join the global list, so every operation tag is declared.
      const document = 'openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject;
      const tags = (document.tags ??= []);
      for (const item of Object.values(document.paths ?? {})) {
        for (const operation of Object.values(item as Record<string, { tags?: string[] }>)) {
          for (const tag of operation.tags ?? []) if (!tags.some((t) => t.name === tag)) tags.push({ name: tag });
        }
      }
      return document;
    },
    transform: ({ schema, url, route }) => {
      if (schema === undefined) return { schema, url };
      const source = schema as RouteSchema;
      const transformed: RouteSchema = { ...source };
      const scope = (route.config as { scope?: string } | undefined)?.scope;
      if (scope === undefined) transformed.security = [];
      else if (scope === 'any') transformed.security = [{ bearerAuth: [] }, { oauth2: [] }];
      else {
        transformed['x-scope'] = scope;
        transformed.security = [{ bearerAuth: [] }, { oauth2: [scope] }];
      }
      const isSeed = source.operationId !== undefined && SEED_OPERATIONS.has(source.operationId);
      if (!isSeed && source['x-extension'] === undefined) transformed['x-extension'] = true;
      if (source.description === undefined && typeof source.summary === 'string')
        transformed.description = `${source.summary}.`;
      if (source.response) {
        const responses: Record<string, unknown> = {};
        // Any authenticated request can meet the per-token rate limit (RATE_LIMIT_PER_MINUTE).
        const declared =
          scope === undefined || '429' in source.response
            ? source.response
            : { ...source.response, 429: { $ref: ErrorSchema.$id } };
        for (const [status, response] of Object.entries(declared)) {
          const code = Number(status);
          const own = (response as { description?: unknown }).description;
          const isOAuthError = (response as { $ref?: unknown }).$ref === 'OAuthError';
          // A page of the browser-facing /authorize describes itself: it has no error body to list codes for.
          const isPage = 'content' in (response as object);
          const description =
            code >= 400 && !isPage
              ? isOAuthError
                ? describeOAuthErrorStatus(code)
                : describeErrorStatus(code)
              : typeof own === 'string'
                ? own
                : (SUCCESS_TEXT[code] ?? 'Success');
          // A $ref response takes its description from a sibling; an inline schema from the x- key, which is not left in the schema.
          const key = '$ref' in (response as object) ? 'description' : 'x-response-description';
          const headers =
            code === 429 || code === 503 ? RETRY_AFTER : headerMap((response as { headers?: unknown }).headers);
          responses[status] = { ...(response as object), [key]: description, ...(headers ? { headers } : {}) };
        }
        transformed.response = responses;
      }
      return { schema: transformed as never, url };
    },
  });

  app.get(OPENAPI_PATH, { schema: { hide: true } }, async () => app.swagger());

  await app.register(swaggerUi, {
    routePrefix: DOCS_PREFIX,
    uiConfig: { deepLinking: true },
    staticCSP: true,
  });
}

/** Registered before the routes: @fastify/swagger collects them as they are added. */
export const openApiPlugin = fp<{ publicUrl: string | undefined; version: string }>(registerOpenApi, {
  name: 'customers-api-openapi',
  fastify: '5.x',
});
