import net from 'node:net';

/**
 * A loopback port nothing listens on right now, picked by the kernel. For processes we spawn (PORT=0 would not tell
 * us which port a child got); shared by the tests and the benchmarks.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
