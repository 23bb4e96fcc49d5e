import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { checkWebhookUrlSyntax, resolveWebhookTarget, type HostResolver, type ResolvedAddress } from './url-policy.js';

export interface WebhookRequest {
  url: string;
  /** Sent byte for byte: the signature was computed over exactly these bytes. */
  body: Buffer;
  headers: Record<string, string>;
  timeoutMs: number;
  allowPrivate: boolean;
  resolve: HostResolver;
  /**
   * Keep-alive agents, so consecutive deliveries to one receiver skip the TCP
   * and TLS handshakes. A pooled socket was opened to an address checked when
   * it was opened. Without them every delivery opens its own connection.
   */
  agents?: WebhookAgents;
}

export interface WebhookAgents {
  http: http.Agent;
  https: https.Agent;
}

/**
 * Agents for `postWebhook`; idle sockets close after a few seconds, before most servers drop them. `maxSockets`
 * per receiver should match the dispatcher's concurrency, or subscriptions sharing a receiver queue on each other.
 */
export function createWebhookAgents(maxSockets: number): WebhookAgents {
  const options = { keepAlive: true, maxSockets, maxFreeSockets: maxSockets, timeout: 4000 };
  return { http: new http.Agent(options), https: new https.Agent(options) };
}

export interface WebhookOutcome {
  ok: boolean;
  /** The receiver's HTTP status, when it answered. */
  status?: number;
  error?: string;
  durationMs: number;
}

const MAX_ERROR_BODY = 200;
const MAX_READ_BODY = 64 * 1024;

/**
 * A lookup that answers with the addresses the policy already checked, so the
 * connection goes to one of them: a second DNS answer (rebinding) is never
 * consulted.
 */
function pinnedLookup(addresses: readonly ResolvedAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all) {
      callback(
        null,
        addresses.map((a) => ({ address: a.address, family: a.family })),
      );
    } else {
      const first =
        addresses.find((a) => options.family === undefined || options.family === 0 || a.family === options.family) ??
        addresses[0]!;
      callback(null, first.address, first.family);
    }
  };
}

/**
 * POSTs one webhook. Redirects are not followed (a 3xx is not ok; the
 * dispatcher records it as rejected): a redirect would lead the server to a
 * target the policy never checked.
 */
export async function postWebhook(request: WebhookRequest): Promise<WebhookOutcome> {
  const started = Date.now();
  const done = (outcome: Omit<WebhookOutcome, 'durationMs'>): WebhookOutcome => ({
    ...outcome,
    durationMs: Date.now() - started,
  });

  const syntax = checkWebhookUrlSyntax(request.url, request.allowPrivate);
  if (!syntax.ok) return done({ ok: false, error: `refused: url ${syntax.reason}` });
  const url = syntax.url;
  // DNS counts against the same deadline as the request: a hanging resolver must not stall the subscription.
  const target = await resolveWebhookTarget(url, request.allowPrivate, request.resolve, request.timeoutMs);
  if (!target.ok)
    return done({ ok: false, error: target.kind === 'blocked' ? `refused: ${target.reason}` : target.reason });

  const client = url.protocol === 'https:' ? https : http;
  const agent = request.agents ? (url.protocol === 'https:' ? request.agents.https : request.agents.http) : false;
  const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const lookup = pinnedLookup(target.addresses);

  const sendOnce = (via: http.Agent | false, timeoutMs: number) =>
    new Promise<{ outcome: Omit<WebhookOutcome, 'durationMs'>; staleSocket: boolean }>((resolve) => {
      let settled = false;
      let answered: number | undefined;
      const finish = (outcome: Omit<WebhookOutcome, 'durationMs'>, staleSocket = false) => {
        if (settled) return;
        settled = true;
        resolve({ outcome, staleSocket });
      };
      const req = client.request(
        {
          method: 'POST',
          protocol: url.protocol,
          hostname,
          port: url.port === '' ? undefined : Number(url.port),
          path: `${url.pathname}${url.search}`,
          headers: { ...request.headers, host: url.host, 'content-length': String(request.body.length) },
          lookup,
          agent: via,
        },
        (res) => {
          const status = res.statusCode ?? 0;
          answered = status;
          if (status >= 200 && status < 300) {
            // The status is the answer: success does not wait for the body, which is drained until the deadline.
            finish({ ok: true, status });
            res.resume();
            return;
          }
          const chunks: Buffer[] = [];
          let read = 0;
          res.on('data', (chunk: Buffer) => {
            // Only the start of the body goes into the error message.
            if (read < MAX_READ_BODY) chunks.push(chunk);
            read += chunk.length;
          });
          res.on('error', (error) => finish({ ok: false, status, error: error.message }));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8').replace(/\s+/g, ' ').trim().slice(0, MAX_ERROR_BODY);
            const redirect = status >= 300 && status < 400 ? ' (redirects are not followed)' : '';
            finish({ ok: false, status, error: `HTTP ${status}${redirect}${text ? `: ${text}` : ''}` });
          });
        },
      );
      const deadline = setTimeout(() => {
        req.destroy();
        finish(
          answered === undefined
            ? { ok: false, error: `no response within ${request.timeoutMs} ms` }
            : {
                ok: false,
                status: answered,
                error: `HTTP ${answered}, body not complete within ${request.timeoutMs} ms`,
              },
        );
      }, timeoutMs);
      req.on('close', () => clearTimeout(deadline));
      req.on('error', (error: NodeJS.ErrnoException) =>
        finish(
          { ok: false, error: error.code ? `${error.code}: ${error.message}` : error.message },
          // Most likely the server closed a pooled idle socket as we reused it: retry at once on a fresh connection
          // (Node documents this pattern; a duplicate is possible, as with any retry).
          req.reusedSocket && answered === undefined && (error.code === 'ECONNRESET' || error.code === 'EPIPE'),
        ),
      );
      req.end(request.body);
    });

  const first = await sendOnce(agent, Math.max(1, request.timeoutMs - (Date.now() - started)));
  if (!first.staleSocket) return done(first.outcome);
  const second = await sendOnce(false, Math.max(1, request.timeoutMs - (Date.now() - started)));
  return done(second.outcome);
}
