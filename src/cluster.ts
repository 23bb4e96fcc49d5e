import cluster, { type Worker } from 'node:cluster';
import { serveClusterMetrics } from './http/plugins/metrics.js';

export interface ClusterLog {
  info(message: string): void;
  warn(message: string): void;
}

// A worker that dies this soon after starting is crash-looping: wait longer before each new attempt.
const FAST_CRASH_MS = 5000;
const MAX_RESTART_DELAY_MS = 30_000;

/**
 * The primary of `serve --workers N`: forks N workers that run the same
 * command and share the listening port (node:cluster hands connections to
 * them in turn), replaces a worker that dies, and on SIGTERM/SIGINT lets
 * every worker drain before exiting. Resolves with the exit code.
 */
export function runClusterPrimary(workers: number, log: ClusterLog): Promise<number> {
  return new Promise((resolve) => {
    const startedAt = new Map<Worker, number>();
    let fastCrashes = 0;
    let stopping = false;
    let failedExits = 0;

    const fork = () => {
      const worker = cluster.fork();
      startedAt.set(worker, Date.now());
    };

    cluster.on('listening', (worker, address) => {
      log.info(`worker ${worker.process.pid} listening on ${address.address ?? '*'}:${address.port}`);
    });

    cluster.on('exit', (worker, code, signal) => {
      const started = startedAt.get(worker) ?? 0;
      startedAt.delete(worker);
      if (stopping) {
        // A worker still starting has no SIGTERM handler yet; ended by the signal, it had nothing to drain.
        if (code !== 0 && signal !== 'SIGTERM') {
          failedExits++;
          log.warn(`worker ${worker.process.pid} did not drain cleanly (${signal ?? `code ${code}`})`);
        }
        if (startedAt.size === 0) resolve(failedExits === 0 ? 0 : 1);
        return;
      }
      fastCrashes = Date.now() - started < FAST_CRASH_MS ? fastCrashes + 1 : 0;
      const delay = fastCrashes === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 250 * 2 ** (fastCrashes - 1));
      log.warn(
        `worker ${worker.process.pid} exited (${signal ?? `code ${code}`}); starting a replacement${delay ? ` in ${delay} ms` : ''}`,
      );
      setTimeout(() => {
        if (!stopping) fork();
      }, delay).unref();
    });

    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        log.warn(`${signal} again: killing workers`);
        for (const worker of startedAt.keys()) worker.process.kill('SIGKILL');
        resolve(1);
        return;
      }
      stopping = true;
      log.info(`${signal}: draining ${startedAt.size} workers`);
      if (startedAt.size === 0) resolve(0);
      for (const worker of startedAt.keys()) worker.process.kill('SIGTERM');
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);

    // A scrape of any worker's /metrics returns the sum over all of them.
    serveClusterMetrics();
    for (let i = 0; i < workers; i++) fork();
  });
}
