import { isIPv6 } from 'node:net';
import type { FastifyRequest } from 'fastify';

// RFC 1123 labels; `_` too, since container and service-discovery names (docker compose) carry it.
const LABEL = '[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?';
const HOST_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*\\.?$`, 'i');
const WITH_PORT = /^(\[[^\]]*\]|[^:[\]]*)(?::([0-9]{1,5}))?$/;

/**
 * A `Host` header value split into its host (lower case, IPv6 in brackets)
 * and port, or undefined when it is not a syntactically valid `host[:port]`
 * (RFC 9110 section 7.2): a DNS name or IPv4 address, or a bracketed IPv6
 * address, and a port up to 65535.
 */
export function parseHostHeader(value: string): { host: string; port: number | undefined } | undefined {
  const match = WITH_PORT.exec(value);
  if (!match) return undefined;
  const host = match[1]!.toLowerCase();
  const port = match[2] === undefined ? undefined : Number(match[2]);
  if (port !== undefined && port > 65_535) return undefined;
  if (host.startsWith('[')) return isIPv6(host.slice(1, -1)) ? { host, port } : undefined;
  return host.length <= 254 && HOST_NAME.test(host) ? { host, port } : undefined;
}

/**
 * Whether `host` (a parsed Host header) is one of `allowed` entries: a name
 * alone matches any port, `name:port` only that port.
 */
export function isAllowedHost(host: { host: string; port: number | undefined }, allowed: readonly string[]): boolean {
  const name = host.host.replace(/\.$/, '');
  return allowed.some((entry) => {
    const parsed = parseHostHeader(entry);
    if (!parsed || parsed.host.replace(/\.$/, '') !== name) return false;
    return parsed.port === undefined || parsed.port === host.port;
  });
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's Host once the host check accepted it; undefined before, or when it was refused. */
    checkedHost: string | undefined;
  }
}

/**
 * The host[:port] to build absolute URLs on when PUBLIC_URL is unset: the
 * request's Host once the host check accepted it, else (an HTTP/1.0 request
 * without one, a refused one, a request refused before the check ran) the
 * address the request came in on, so no unchecked text reaches a URL.
 */
export function requestHost(request: FastifyRequest): string {
  if (request.checkedHost !== undefined) return request.checkedHost;
  const { localAddress = '127.0.0.1', localPort } = request.raw.socket;
  return `${localAddress.includes(':') ? `[${localAddress}]` : localAddress}${localPort === undefined ? '' : `:${localPort}`}`;
}
