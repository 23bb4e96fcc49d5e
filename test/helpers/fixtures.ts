import { expect } from 'vitest';
import type { TestServer } from './test-server.js';

export interface FeedEvent {
  id: string;
  sequence: number;
  occurredAt: string;
  event: string;
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

/** LOKE's error body: `type` is the code, `code` its alias, `documentation` the code's entry on /docs/errors. */
export function expectError(response: { status: number; body: unknown }, status: number, code: string) {
  expect(response.status).toBe(status);
  expect(response.body).toEqual(
    expect.objectContaining({
      type: code,
      code,
      message: expect.any(String),
      instance: expect.stringMatching(/^[0-9A-Z]{26}$/),
      documentation: expect.stringMatching(new RegExp(`^https?://[^/]+/docs/errors#${code}$`)),
    }),
  );
}
