import { expect } from 'vitest';
import { ERROR_CATALOG, type ErrorCode } from '../../src/errors.js';
import type { TestServer } from './test-server.js';

export interface FeedEvent {
  id: string;
  sequence: number;
  occurredAt: string;
  event: string;
  organization: { id: string; name: string };
  [key: string]: unknown;
}

export interface ErrorBody {
  type: string;
  message: string;
  instance: string;
  documentation: string;
  details?: { field: string; message: string }[];
  code: string;
}

/** A fresh organization with a read token and a read+write token. */
export async function createTenant(server: TestServer) {
  const org = await server.createOrganization();
  const read = await server.createToken([org.id], ['customers:read']);
  const write = await server.createToken([org.id], ['customers:read', 'customers:write']);
  return { org, orgId: org.id, read, write };
}

/** Follows X-Next-Page from `path` to the last page and returns every item. */
export async function readAllPages<T>(server: TestServer, path: string, token: string): Promise<T[]> {
  const items: T[] = [];
  let next: string | null = path;
  while (next) {
    const response: { status: number; headers: Headers; body: T[]; text: string } = await server.request<T[]>(
      'GET',
      next,
      { token },
    );
    expect(response.status, response.text).toBe(200);
    items.push(...response.body);
    next = response.headers.get('x-next-page');
  }
  return items;
}

export async function readEvents(
  server: TestServer,
  orgId: string,
  token: string,
  afterSequence = 0,
): Promise<FeedEvent[]> {
  return readAllPages<FeedEvent>(server, `/organizations/${orgId}/events?afterSequence=${afterSequence}`, token);
}

/** The last sequence of the organization's feed (0 when empty). */
export async function lastSequence(server: TestServer, orgId: string, token: string): Promise<number> {
  const events = await readEvents(server, orgId, token);
  return events.at(-1)?.sequence ?? 0;
}

/**
 * The one definition, for the suite, of an error body: LOKE's `{type, message,
 * instance, documentation}` with `code` as an alias of `type`, a catalog code
 * whose status is the response's, `documentation` its entry on /docs/errors.
 */
function expectErrorBody(body: unknown, status: number, context: string): ErrorBody {
  const error = body as ErrorBody;
  expect(error, context).toEqual(
    expect.objectContaining({
      type: expect.any(String),
      message: expect.any(String),
      instance: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
      documentation: expect.any(String),
    }),
  );
  expect(error.code, context).toBe(error.type);
  expect(ERROR_CATALOG[error.type as ErrorCode]?.status, context).toBe(status);
  expect(error.documentation, context).toMatch(new RegExp(`^https?://[^/]+/docs/errors#${error.type}$`));
  return error;
}

export function expectError(response: { status: number; body: unknown }, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(expectErrorBody(response.body, status, JSON.stringify(response.body)).type).toBe(code);
}

/** Any error response, whatever its status: JSON, and the error body above. */
export function expectErrorJson(
  response: { status: number; headers: Headers; body: unknown; text?: string },
  status?: number,
): ErrorBody {
  const context = `${response.status} ${response.text ?? JSON.stringify(response.body)}`;
  if (status !== undefined) expect(response.status, context).toBe(status);
  expect(response.headers.get('content-type'), context).toMatch(/^application\/json/);
  return expectErrorBody(response.body, response.status, context);
}

/** The fields a validation error names. */
export function errorFields(body: ErrorBody): string[] {
  return (body.details ?? []).map((d) => d.field);
}
