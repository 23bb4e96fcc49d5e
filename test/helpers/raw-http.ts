import net from 'node:net';

export interface RawResponse {
  status: number;
  headers: Headers;
  body: unknown;
  text: string;
  /** Everything the server sent before it closed the connection. */
  raw: string;
}

/** Parses the first HTTP/1.1 response in `raw` (Content-Length bodies, as the server's error answers are). */
export function parseRawResponse(raw: string): RawResponse | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = raw.slice(0, end).split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? '')?.[1]);
  if (!Number.isInteger(status)) return undefined;
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const length = Number(headers.get('content-length') ?? 0);
  const text = Buffer.from(raw.slice(end + 4), 'latin1')
    .subarray(0, length)
    .toString('utf8');
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: the caller's assertion on the body shows it.
  }
  return { status, headers, body, text, raw };
}

export interface RawExchange {
  socket: net.Socket;
  /**
   * Resolves with the first response once it is complete (with `waitForClose`, once the server closes the
   * connection; `raw` then holds all it sent) or when `closeAfterMs` passes.
   */
  response: Promise<RawResponse | undefined>;
}

/**
 * Opens a TCP connection to the loopback server, writes `bytes` and collects
 * the answer; `bytes` is sent as given (latin1 for strings), so malformed
 * HTTP reaches the server's parser untouched.
 */
export function rawExchange(
  port: number,
  bytes: string | Buffer,
  options: { closeAfterMs?: number; waitForClose?: boolean } = {},
): RawExchange {
  const socket = net.connect({ host: '127.0.0.1', port });
  const chunks: Buffer[] = [];
  const response = new Promise<RawResponse | undefined>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      if (timer) clearTimeout(timer);
      resolve(parseRawResponse(Buffer.concat(chunks).toString('latin1')));
    };
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // A complete response ends the exchange even when the server keeps the connection open.
      const sofar = Buffer.concat(chunks).toString('latin1');
      const parsed = parseRawResponse(sofar);
      if (
        !options.waitForClose &&
        parsed &&
        Buffer.byteLength(parsed.text) >= Number(parsed.headers.get('content-length') ?? Infinity)
      ) {
        socket.destroy();
      }
    });
    socket.on('close', finish);
    socket.on('error', () => undefined);
    if (options.closeAfterMs !== undefined) {
      timer = setTimeout(() => {
        socket.destroy();
      }, options.closeAfterMs);
    }
  });
  socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  return { socket, response };
}

/** One raw request and the server's response to it (undefined when it closed or `closeAfterMs` passed without one). */
export async function rawRequest(
  port: number,
  bytes: string | Buffer,
  closeAfterMs = 5000,
): Promise<RawResponse | undefined> {
  return rawExchange(port, bytes, { closeAfterMs }).response;
}
