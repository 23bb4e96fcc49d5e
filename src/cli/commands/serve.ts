import cluster from 'node:cluster';
import { runClusterPrimary, type ClusterLog } from '../../cluster.js';
import type { Config } from '../../config.js';
import { seedDemo } from '../../demo/demo-data.js';
import { countOrganizations } from '../../store/repositories/organization-repository.js';
import type { Command } from '../command.js';
import { printDemo } from './demo.js';

const LEVELS = { info: 30, warn: 40 } as const;

/** Log lines of the cluster primary, in the same JSON shape as the workers' (pino) lines. */
function primaryLogger(config: Config): ClusterLog {
  const threshold =
    config.logLevel === 'silent'
      ? Infinity
      : ({ trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const)[config.logLevel];
  const write = (level: keyof typeof LEVELS, msg: string) => {
    if (LEVELS[level] >= threshold)
      console.log(JSON.stringify({ level: LEVELS[level], time: Date.now(), pid: process.pid, msg }));
  };
  return { info: (msg) => write('info', msg), warn: (msg) => write('warn', msg) };
}

export const serve: Command = {
  usage: `serve [--workers N]           run the API server (migrates first; seeds demo data into an empty embedded database);
                                --workers N (or WORKERS=N) runs N processes sharing the port`,
  options: { workers: { type: 'string' } },
  async run(context) {
    // Loaded here, not at the top: the other commands start faster without Fastify and the routes.
    const { closeOnSignals, startServer } = await import('../../server.js');
    const workers = context.string('workers');
    const config = context.config(workers === undefined ? {} : { WORKERS: workers });
    if (cluster.isWorker) {
      // The primary has migrated and listens for all of us; it forwards SIGTERM, so a terminal's
      // SIGINT (sent to the whole process group) must not count as a second, hurried signal.
      const server = await startServer(config, { migrate: false });
      process.on('SIGINT', () => undefined);
      closeOnSignals(server, (message) => server.app.log.info(message), ['SIGTERM']);
      return -1;
    }
    if (config.database.kind === 'sqlite') {
      // First run on the embedded default: make the server useful straight away.
      const seeded = await context.withServices(
        async (services) => ((await countOrganizations(services.store.db)) === 0 ? seedDemo(services) : undefined),
        config,
      );
      if (seeded)
        printDemo(
          context,
          seeded,
          config.publicUrl ?? `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`,
        );
    }
    if (config.workers > 1) {
      // Migrate once here, so the workers start on a ready schema instead of queueing on the migration lock.
      // Migrate (and make the issuer's first signing key) once here, before the workers start.
      await context.withServices(async (services) => services.oauth.keys.jwks(), config);
      const log = primaryLogger(config);
      log.info(
        `customers-api primary ${process.pid}: starting ${config.workers} workers on ${config.host}:${config.port} (${config.database.kind})`,
      );
      return runClusterPrimary(config.workers, log);
    }
    const server = await startServer(config);
    closeOnSignals(server, (message) => server.app.log.info(message));
    server.app.log.info(
      `customers-api listening on ${server.url} (${config.database.kind}); console at ${config.publicUrl ?? server.url}/console/`,
    );
    return -1;
  },
};
