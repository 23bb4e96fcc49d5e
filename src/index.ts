export { buildApp, type BuildAppOptions } from './app.js';
export { loadConfig, ConfigError, type Config } from './config.js';
export { startServer, type RunningServer } from './server.js';
export { createServices, type Services } from './services.js';
export { openStore, migrateToLatest } from './store/open-store.js';
export { AppError, ERROR_CATALOG, type ErrorCode } from './errors.js';
export type { Customer, CustomerStatistics, CustomerTiny, CustomerListTiny } from './contract/customers.js';
export type { Organization } from './contract/organizations.js';
export {
  createWebhookDispatcher,
  type WebhookDispatcher,
  type WebhookDispatcherOptions,
} from './webhooks/dispatcher.js';
export type { Webhook, WebhookDelivery } from './contract/webhooks.js';
