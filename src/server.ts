import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { createMetrics } from './http/plugins/metrics.js';
import type { Config } from './config.js';
import { createServices, type Services } from './services.js';
import { migrateToLatest, openStore, storeOptions } from './store/open-store.js';
import { createWebhookDispatcher, type WebhookDispatcher } from './webhooks/dispatcher.js';

export interface RunningServer {
  app: FastifyInstance;
  services: Services;
  /** Undefined when WEBHOOK_DISPATCHER=false. */
  dispatcher: WebhookDispatcher | undefined;
  url: string;
  /** Stops accepting connections, drains in-flight requests and webhook deliveries, then closes the database. */
  close(): Promise<void>;
}

export interface StartServerOptions {
  /** False in cluster workers: their primary has migrated already. */
  migrate?: boolean;
}

/** Opens the database, applies migrations, and listens. */
export async function startServer(config: Config, options: StartServerOptions = {}): Promise<RunningServer> {
  let logPoolError = (error: Error): void => void error;
  let logReplicaDown = (name: string, error: Error): void => void [name, error];
  const store = await openStore(config.database, {
    ...storeOptions(config),
    onPoolError: (error) => logPoolError(error),
    onReplicaDown: (name, error) => logReplicaDown(name, error),
  });
  try {
    if (options.migrate !== false) await migrateToLatest(store);
  } catch (error) {
    await store.close();
    throw error;
  }
  const services = createServices(store, config);
  // The issuer's first signing key is made on first start (workers find the one their primary made).
  if (options.migrate !== false) await services.oauth.keys.jwks();
  const metrics = createMetrics(store);
  const app = await buildApp({ config, services, metrics });
  logPoolError = (error) => app.log.warn({ err: error }, 'idle database connection failed; it will be replaced');
  logReplicaDown = (name, error) =>
    app.log.warn({ err: error, replica: name }, 'read replica unreachable; reads skip it until it answers again');
  try {
    await app.listen({ port: config.port, host: config.host });
  } catch (error) {
    await app.close();
    await store.close();
    throw error;
  }
  const dispatcher = config.webhookDispatcher
    ? createWebhookDispatcher({
        store,
        retryBaseMs: config.webhookRetryBaseMs,
        maxAttempts: config.webhookMaxAttempts,
        timeoutMs: config.webhookTimeoutMs,
        pollIntervalMs: config.webhookPollIntervalMs,
        allowPrivateUrls: config.webhooksAllowPrivateUrls,
        deliveryRetentionMs: config.webhookDeliveryRetentionDays * 86_400_000,
        log: app.log,
        onAttempt: (attempt) => metrics.webhookAttempt(attempt),
      })
    : undefined;
  const unsubscribe = dispatcher ? services.writeSignal.subscribe(() => dispatcher.wake()) : undefined;
  dispatcher?.start();
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  let closing: Promise<void> | undefined;
  return {
    app,
    services,
    dispatcher,
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`,
    close() {
      closing ??= (async () => {
        unsubscribe?.();
        await Promise.all([app.close(), dispatcher?.stop()]);
        await store.close();
      })();
      return closing;
    },
  };
}

/** Drains and exits on SIGTERM/SIGINT; a second signal exits at once. */
export function closeOnSignals(
  server: RunningServer,
  log: (message: string) => void,
  signals: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'],
) {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    log(`${signal}: draining in-flight requests and closing the database`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        log(`shutdown failed: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  for (const signal of signals) process.on(signal, stop);
}
