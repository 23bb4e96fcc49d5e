import type { Config } from '../../src/config.js';
import type { Store } from '../../src/store/store.js';
import {
  createWebhookDispatcher,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
} from '../../src/webhooks/dispatcher.js';

/** A started dispatcher with the server's webhook settings and a fast poll; stop it in the test. */
export function startDispatcher(
  store: Store,
  config: Config,
  options: Partial<Omit<WebhookDispatcherOptions, 'store'>> = {},
): WebhookDispatcher {
  const dispatcher = createWebhookDispatcher({
    store,
    retryBaseMs: config.webhookRetryBaseMs,
    maxAttempts: config.webhookMaxAttempts,
    timeoutMs: config.webhookTimeoutMs,
    pollIntervalMs: 20,
    allowPrivateUrls: config.webhooksAllowPrivateUrls,
    ...options,
  });
  dispatcher.start();
  return dispatcher;
}
