import type { FastifyInstance } from 'fastify';
import { badRequest } from '../../errors.js';
import { isAllowedHost, parseHostHeader } from '../host-header.js';

export interface HostCheckOptions {
  publicUrl: string | undefined;
  allowedHosts: readonly string[] | undefined;
}

/**
 * Refuses a Host header that could not be put into a URL, because without
 * PUBLIC_URL the server builds absolute URLs (X-Next-Page) from it; with
 * ALLOWED_HOSTS, also any host not listed. HTTP/1.1 requires the header
 * (RFC 9110 section 7.2). Register it before the other request hooks.
 */
export function registerHostCheck(app: FastifyInstance, { publicUrl, allowedHosts }: HostCheckOptions) {
  app.decorateRequest('checkedHost', undefined);
  app.addHook('onRequest', async (request) => {
    const raw = request.headers.host;
    if (raw === undefined || raw === '') {
      if (request.raw.httpVersion !== '1.0') throw badRequest('The Host header is required');
      return;
    }
    if (publicUrl !== undefined && allowedHosts === undefined) return;
    const host = parseHostHeader(raw);
    if (!host) throw badRequest('The Host header is not a valid host[:port]');
    if (allowedHosts !== undefined && !isAllowedHost(host, allowedHosts)) {
      throw badRequest(`The host ${host.host} is not served here (ALLOWED_HOSTS)`);
    }
    request.checkedHost = raw;
  });
}
