import type { FastifyReply, FastifyRequest } from 'fastify';
import { requestHost } from './host-header.js';

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
  const base = publicUrl ?? `${request.protocol}://${requestHost(request)}`;
  void reply.header('X-Next-Page', `${base}${path}?${params.toString()}`);
}
