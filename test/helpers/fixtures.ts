import { expect } from 'vitest';
import { ERROR_CATALOG, type ErrorCode } from '../../src/errors.js';
import type { TestServer } from './test-server.js';

export interface FeedEvent {
  id: string;
  sequence: number;
  occurredAt: string;
  event: string;
  [key: string]: unknown;
}

export interface ErrorBody {
  code: string;
  message: string;
  instance: string;
  details?: { field: string; message: string }[];
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

export function expectError(response: { status: number; body: unknown }, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.body).toEqual(
    expect.objectContaining({ code, message: expect.any(String), instance: expect.any(String) }),
  );
}

/**
 * The one definition, for the suite, of what every error response looks
 * like: JSON, a catalog code whose status is the response's, a message and a
 * ULID instance. `headers` may be absent for responses read off a raw socket
 * that were checked for their content type already.
 */
export function expectErrorJson(
  response: { status: number; headers: Headers; body: unknown; text?: string },
  status?: number,
): ErrorBody {
  const context = `${response.status} ${response.text ?? JSON.stringify(response.body)}`;
  if (status !== undefined) expect(response.status, context).toBe(status);
  expect(response.headers.get('content-type'), context).toMatch(/^application\/json/);
  const body = response.body as ErrorBody;
  expect(body, context).toEqual(
    expect.objectContaining({
      code: expect.any(String),
      message: expect.any(String),
      instance: expect.stringMatching(/^[0-9A-HJKMNP-TV-Z]{26}$/),
    }),
  );
  expect(ERROR_CATALOG[body.code as ErrorCode]?.status, context).toBe(response.status);
  return body;
}

/** The fields a validation error names. */
export function errorFields(body: ErrorBody): string[] {
  return (body.details ?? []).map((d) => d.field);
}
