import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  text: string;
  receivedAt: number;
}

/** What to answer: a status code, or `hang` to never answer (the sender's timeout fires). */
export type Responder = (request: ReceivedRequest, index: number) => number | 'hang' | Promise<number | 'hang'>;

export interface WebhookReceiver {
  /** http://127.0.0.1:<port> */
  url: string;
  port: number;
  requests: ReceivedRequest[];
  respondWith(responder: Responder): void;
  /** Requests to one path, in arrival order. */
  on(path: string): ReceivedRequest[];
  close(): Promise<void>;
}

/** A real HTTP receiver on loopback that records every request with its raw body. */
export async function startReceiver(responder: Responder = () => 200): Promise<WebhookReceiver> {
  let respond = responder;
  const requests: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const received: ReceivedRequest = {
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body,
        text: body.toString('utf8'),
        receivedAt: Date.now(),
      };
      const index = requests.push(received) - 1;
      void Promise.resolve(respond(received, index)).then((status) => {
        if (status === 'hang') return;
        res.writeHead(status, { 'content-type': 'text/plain' }).end(status >= 400 ? `receiver says ${status}` : 'ok');
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    respondWith(next) {
      respond = next;
    },
    on: (path) => requests.filter((r) => r.path === path),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
