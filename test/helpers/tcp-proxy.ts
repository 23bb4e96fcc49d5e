import net from 'node:net';

export type ProxyMode = 'forward' | 'blackhole' | 'refuse';

export interface TcpProxy {
  port: number;
  /**
   * forward: pass bytes both ways. blackhole: keep every connection open but
   * pass nothing (a hung server or a dead network). refuse: reset every
   * connection, open and new (a server that went away).
   */
  setMode(mode: ProxyMode): void;
  /**
   * Back to forward for new connections only: the ones opened before stay
   * silent forever, like after a failover or a network that lost their state.
   */
  forwardNewConnectionsOnly(): void;
  close(): Promise<void>;
}

/** A TCP proxy on a loopback port in front of `target`, whose behavior a test switches at will. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: ProxyMode = 'forward';
  const pairs = new Set<{ client: net.Socket; upstream: net.Socket; held: Buffer[][]; stalled: boolean }>();

  const server = net.createServer((client) => {
    if (mode === 'refuse') {
      client.resetAndDestroy();
      return;
    }
    const upstream = net.connect(target.port, target.host);
    // held[0]: bytes from the client, held[1]: bytes from the server, kept while blackholed.
    const pair = { client, upstream, held: [[], []] as Buffer[][], stalled: false };
    pairs.add(pair);
    const forward = (from: net.Socket, to: net.Socket, held: Buffer[]) => {
      from.on('data', (chunk: Buffer) => {
        if (mode === 'forward' && !pair.stalled) to.write(chunk);
        else if (!pair.stalled) held.push(chunk);
      });
    };
    forward(client, upstream, pair.held[0]!);
    forward(upstream, client, pair.held[1]!);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  return {
    port,
    setMode(next) {
      mode = next;
      if (next === 'refuse') {
        for (const pair of pairs) {
          pair.client.resetAndDestroy();
          pair.upstream.destroy();
        }
        pairs.clear();
      }
      if (next === 'forward') {
        // Connections opened during the blackhole have bytes waiting; deliver them in order.
        for (const pair of pairs) {
          for (const chunk of pair.held[0]!.splice(0)) pair.upstream.write(chunk);
          for (const chunk of pair.held[1]!.splice(0)) pair.client.write(chunk);
        }
      }
    },
    forwardNewConnectionsOnly() {
      for (const pair of pairs) pair.stalled = true;
      mode = 'forward';
    },
    async close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
