import { STATUS_CODES, type IncomingMessage, type ServerOptions, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { newId } from '../../domain/ids.js';
import { ERROR_CATALOG, type ErrorCode } from '../../errors.js';
import { renderErrorBody } from './error-body.js';

/** The in-flight response Node keeps on the socket (not in its typings). */
type HttpSocket = Socket & { _httpMessage?: ServerResponse | null };

interface Failure {
  code: ErrorCode;
  message: string;
}

/** What the HTTP parser refused, as one of our errors. */
function parserFailure(error: Error & { code?: string; reason?: string }): Failure {
  switch (error.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { code: 'request_timeout', message: 'The request (headers and body) was not received in time' };
    case 'HPE_HEADER_OVERFLOW':
      return { code: 'header_too_large', message: 'The request line and headers exceed 16 KiB' };
    default:
      return {
        code: 'bad_request',
        message: `The request is not valid HTTP/1.1${error.reason ? `: ${error.reason}` : ''}`,
      };
  }
}

function socketBaseUrl(socket: Socket, publicUrl: string | undefined): string {
  if (publicUrl !== undefined) return publicUrl;
  const address = socket.localAddress ?? '127.0.0.1';
  return `http://${address.includes(':') ? `[${address}]` : address}:${socket.localPort ?? 80}`;
}

/**
 * Writes our error JSON straight to a socket that never became a request
 * Fastify handles (a parser error, a timeout), when nothing of a response is
 * on the wire yet, then closes it. The instance goes to the log.
 */
function answerSocket(
  socket: HttpSocket,
  log: FastifyBaseLogger,
  publicUrl: string | undefined,
  failure: Failure,
  cause?: Error,
) {
  const instance = newId();
  const status = ERROR_CATALOG[failure.code].status;
  log.info({ status, code: failure.code, instance, err: cause?.message }, 'connection refused');
  const inFlight = socket._httpMessage;
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify(
      renderErrorBody(failure.code, failure.message, { instance, baseUrl: socketBaseUrl(socket, publicUrl) }),
    );
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

/** Fastify's `clientErrorHandler`: parser rejections and request timeouts in our error JSON. */
export function clientErrorHandler(publicUrl: string | undefined) {
  return function handleClientError(this: FastifyInstance, error: Error & { code?: string }, socket: Socket) {
    // A reset socket is gone: nothing to answer.
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    answerSocket(socket, this.log, publicUrl, parserFailure(error), error);
  };
}

export interface ConnectionLimits {
  requestTimeoutMs: number;
  connectionIdleTimeoutMs: number;
}

/** Options for Node's HTTP server that go with `requestTimeout` and `connectionTimeout` in the Fastify options. */
export function httpServerOptions({ requestTimeoutMs }: ConnectionLimits): ServerOptions {
  return {
    // Node only checks request deadlines this often (30 s by default, which would let a 1 s timeout run 30 s).
    connectionsCheckingInterval: Math.max(50, Math.min(30_000, Math.floor(requestTimeoutMs / 10))),
    headersTimeout: Math.min(60_000, requestTimeoutMs),
    // A missing Host gets our 400 from the host check instead of Node's empty one.
    requireHostHeader: false,
  };
}

/**
 * The server-level answers Fastify does not route: an idle connection in the
 * middle of a request (408), `Expect` other than 100-continue (417), CONNECT
 * (400), each in our error JSON.
 */
export function registerConnectionGuards(app: FastifyInstance, publicUrl: string | undefined) {
  // Bytes read from the socket when its last response finished: more since then means a request is partly in.
  const readAtLastResponse = new WeakMap<Socket, number>();
  app.server.on('request', (request: IncomingMessage, response: ServerResponse) => {
    // The socket is gone (null) when the response finished by destroying it, as after a refused streamed upload.
    response.once('finish', () => {
      if (request.socket) readAtLastResponse.set(request.socket, request.socket.bytesRead);
    });
  });
  app.server.on('timeout', (socket: HttpSocket) => {
    const midRequest =
      socket._httpMessage !== undefined && socket._httpMessage !== null
        ? !socket._httpMessage.headersSent
        : socket.bytesRead > (readAtLastResponse.get(socket) ?? 0);
    if (!midRequest) {
      socket.destroy();
      return;
    }
    answerSocket(socket, app.log, publicUrl, {
      code: 'request_timeout',
      message: 'The connection was idle too long in the middle of a request',
    });
  });
  app.server.on('checkExpectation', (request: IncomingMessage, response: ServerResponse) => {
    const instance = newId();
    const code = 'expectation_failed';
    app.log.info({ status: 417, code, instance, method: request.method, url: request.url }, 'request');
    const body = JSON.stringify(
      renderErrorBody(code, 'Only Expect: 100-continue is supported', {
        instance,
        baseUrl: socketBaseUrl(request.socket, publicUrl),
      }),
    );
    response.writeHead(417, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      connection: 'close',
    });
    response.end(body);
  });
  app.server.on('connect', (request: IncomingMessage, socket: Socket) => {
    answerSocket(socket, app.log, publicUrl, { code: 'bad_request', message: 'CONNECT is not supported' });
  });
}
