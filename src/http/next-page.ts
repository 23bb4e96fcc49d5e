import type { FastifyReply, FastifyRequest } from 'fastify';
import { requestHost } from './host-header.js';

/** Base of the absolute URLs the server sends: `PUBLIC_URL`, else the request's own scheme and (checked) host. */
export function requestOrigin(request: FastifyRequest, publicUrl: string | undefined): string {
  return publicUrl ?? `${request.protocol}://${requestHost(request)}`;
}

/**
 * Sets `X-Next-Page` to the absolute URL of the next page: the original query
 * with `after` replaced. Absolute so that both `new URL(header, base)` and a
 * bare `fetch(header)` work.
 */
export function setNextPage(
  request: FastifyRequest,
  reply: FastifyReply,
  cursor: string | undefined,
  publicUrl: string | undefined,
) {
  if (cursor === undefined) return;
  const [path, query = ''] = request.url.split('?', 2) as [string, string?];
  const params = new URLSearchParams(query);
  params.delete('after');
  params.append('after', cursor);
  void reply.header('X-Next-Page', `${requestOrigin(request, publicUrl)}${path}?${params.toString()}`);
}
