import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { sealCursor, unsealCursor, invalidCursor } from '../domain/paging.js';
import { badRequest } from '../errors.js';
import { requestHost } from './host-header.js';

/**
 * A listing cursor, as `after` carries it: `sealCursor({v: 2, p, c})`, where `p` maps every query parameter of the
 * request that made it (but `after` and the START_PARAMETERS) to its value, and `c` is the service's keyset cursor
 * (which checks the resource and path, and the parameters that decide the order). So `?after=` alone continues the
 * listing exactly, and a parameter given beside it must agree with the cursor's.
 *
 * Cursors of version 1 (the bare keyset cursor, before listing parameters were carried) are still taken: their
 * X-Next-Page URLs hold every parameter, and the keyset cursor's fingerprint checks them as it always did.
 */
const LISTING_CURSOR_VERSION = 2;
/** Where a listing starts rather than what it is: ignored beside a cursor, so not carried by one. */
const START_PARAMETERS = new Set(['after', 'afterSequence']);
const MAX_CARRIED = 32;
// eslint-disable-next-line no-control-regex -- a carried value is refused if it holds what the query check refuses
const CONTROL = /[\u0000-\u001f\u007f]/;

type Query = Record<string, unknown>;

function carriedParameters(query: Query): Record<string, string> {
  const carried: Record<string, string> = {};
  for (const [name, value] of Object.entries(query)) {
    if (!START_PARAMETERS.has(name) && typeof value === 'string') carried[name] = value;
  }
  return carried;
}

function isCarried(value: unknown): value is Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const entries = Object.entries(value);
  return (
    entries.length <= MAX_CARRIED &&
    entries.every(
      ([name, item]) =>
        !START_PARAMETERS.has(name) &&
        name.length <= 64 &&
        !CONTROL.test(name) &&
        typeof item === 'string' &&
        item.length <= 2048 &&
        !CONTROL.test(item),
    )
  );
}

/** The cursor `after` carries for the next page of this request. */
export function listingCursor(request: FastifyRequest, keysetCursor: string): string {
  return sealCursor({ v: LISTING_CURSOR_VERSION, p: carriedParameters(request.query as Query), c: keysetCursor });
}

/**
 * Before validation, a listing cursor in `after` restores the parameters of its listing into the query (a parameter
 * also given explicitly must have the same value, else 400) and hands the route its keyset cursor.
 */
export function registerListingCursors(app: FastifyInstance): void {
  app.addHook('preValidation', (request, _reply, done) => {
    const after = (request.query as Query | undefined)?.after;
    if (typeof after !== 'string') return done();
    try {
      restoreListing(request, after);
      done();
    } catch (error) {
      done(error as Error);
    }
  });
}

/** The listing's parameters from the cursor in `after` into the query; throws the 400 of a contradicting one. */
function restoreListing(request: FastifyRequest, after: string): void {
  const query = request.query as Query;
  const sealed = unsealCursor(after);
  if (sealed === null || typeof sealed !== 'object' || Array.isArray(sealed)) return; // version 1, or invalid
  const { v, p, c } = sealed as { v?: unknown; p?: unknown; c?: unknown };
  if (v !== LISTING_CURSOR_VERSION || !isCarried(p) || typeof c !== 'string') throw invalidCursor();
  for (const [name, value] of Object.entries(query)) {
    if (START_PARAMETERS.has(name) || value === p[name]) continue;
    const made = name in p ? `${name}=${p[name]}` : `no ${name}`;
    throw badRequest(
      `The after cursor continues a listing with ${made}; leave ${name} out or start again without after`,
      [{ field: name, message: 'contradicts the after cursor' }],
    );
  }
  request.query = { ...query, ...p, after: c };
}

/** Base of the absolute URLs the server sends: `PUBLIC_URL`, else the request's own scheme and (checked) host. */
export function requestOrigin(request: FastifyRequest, publicUrl: string | undefined): string {
  return publicUrl ?? `${request.protocol}://${requestHost(request)}`;
}

/**
 * Sets `X-Next-Page` to the absolute URL of the next page: the listing's query (the request's, or the one its
 * cursor carried) with a listing cursor in `after`. Absolute so that both `new URL(header, base)` and a
 * bare `fetch(header)` work.
 */
export function setNextPage(
  request: FastifyRequest,
  reply: FastifyReply,
  cursor: string | undefined,
  publicUrl: string | undefined,
) {
  if (cursor === undefined) return;
  const path = request.url.split('?', 1)[0]!;
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(request.query as Query)) {
    if (name !== 'after' && typeof value === 'string') params.append(name, value);
  }
  params.append('after', listingCursor(request, cursor));
  void reply.header('X-Next-Page', `${requestOrigin(request, publicUrl)}${path}?${params.toString()}`);
}
