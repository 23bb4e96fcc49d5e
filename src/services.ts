import { DEFAULT_IMPORT_MAX_BYTES, type Config } from './config.js';
import { createTokenService } from './domain/auth/token-service.js';
import { createCustomerListService } from './domain/customer-lists/customer-list-service.js';
import { createCustomerImportService } from './domain/customers/customer-import.js';
import { createCustomerService } from './domain/customers/customer-service.js';
import { createEventService } from './domain/events/event-service.js';
import { createInsightService } from './domain/insights/insight-service.js';
import { createExportService } from './domain/imports/export-service.js';
import { createImportJobService } from './domain/imports/import-job-service.js';
import { createLedgerService } from './domain/ledgers/ledger-service.js';
import { createLocationService } from './domain/locations/location-service.js';
import { createPaymentImportService } from './domain/payments/payment-import.js';
import { createPaymentService } from './domain/payments/payment-service.js';
import { createOrganizationService } from './domain/organizations/organization-service.js';
import { createOAuthServices } from './domain/oauth/oauth-service.js';
import { writeSignalOf } from './domain/organization-write.js';
import { createWebhookService } from './domain/webhooks/webhook-service.js';
import { createSegmentBuilder } from './domain/segments/segment-builder.js';
import type { TokenReads } from './store/repositories/token-repository.js';
import type { Store } from './store/store.js';
import { systemResolver, type HostResolver } from './webhooks/url-policy.js';

export interface ServiceOverrides {
  /** DNS for webhook URL checks; tests inject a fake one. */
  resolve?: HostResolver;
  /** Wraps the token lookups by hash; tests count them. */
  wrapTokenReads?: (reads: TokenReads) => TokenReads;
  /** Errors of background work that has no request to answer (an HTTP import's progress writes); the server logs them. */
  onBackgroundError?: (error: unknown) => void;
}

/** Everything the transports (HTTP, CLI) call into; built once per store. */
export function createServices(
  store: Store,
  config: Pick<Config, 'defaultPhoneRegion' | 'tokenCacheTtlMs'> &
    Partial<
      Pick<
        Config,
        | 'webhooksAllowPrivateUrls'
        | 'accessTokenTtlSeconds'
        | 'refreshTokenTtlSeconds'
        | 'signInMaxFailuresPerAccount'
        | 'signInMaxFailuresPerAddress'
        | 'importMaxBytes'
        | 'segmentBuildBatchSize'
        | 'segmentBuildLeaseMs'
        | 'segmentBuildPollIntervalMs'
      >
    >,
  overrides: ServiceOverrides = {},
) {
  const writeSignal = writeSignalOf(store);
  const customerImport = createCustomerImportService(store, { defaultPhoneRegion: config.defaultPhoneRegion });
  const segmentBuilds = createSegmentBuilder(store, {
    batchSize: config.segmentBuildBatchSize ?? 1000,
    leaseMs: config.segmentBuildLeaseMs ?? 30_000,
    pollIntervalMs: config.segmentBuildPollIntervalMs ?? 5_000,
  });
  return {
    store,
    writeSignal,
    customers: createCustomerService(store, { defaultPhoneRegion: config.defaultPhoneRegion }),
    organizations: createOrganizationService(store),
    events: createEventService(store),
    customerLists: createCustomerListService(store, segmentBuilds),
    /** Background builds of segments: started and stopped with the app (app.ts). */
    segmentBuilds,
    ledgers: createLedgerService(store),
    insights: createInsightService(store),
    locations: createLocationService(store),
    payments: createPaymentService(store),
    tokens: createTokenService(store, { cacheTtlMs: config.tokenCacheTtlMs, wrapReads: overrides.wrapTokenReads }),
    oauth: createOAuthServices(store, {
      cacheTtlMs: config.tokenCacheTtlMs,
      accessTokenTtlSeconds: config.accessTokenTtlSeconds ?? 3600,
      refreshTokenTtlSeconds: config.refreshTokenTtlSeconds ?? 30 * 86_400,
      signInMaxFailuresPerAccount: config.signInMaxFailuresPerAccount ?? 5,
      signInMaxFailuresPerAddress: config.signInMaxFailuresPerAddress ?? 50,
    }),
    customerImport,
    importJobs: createImportJobService(store, customerImport, {
      maxBytes: config.importMaxBytes ?? DEFAULT_IMPORT_MAX_BYTES,
      onError: overrides.onBackgroundError,
    }),
    exports: createExportService(store, customerImport),
    paymentImport: createPaymentImportService(store),
    webhooks: createWebhookService(store, {
      allowPrivateUrls: config.webhooksAllowPrivateUrls ?? false,
      resolve: overrides.resolve ?? systemResolver,
      writeSignal,
    }),
  };
}
export type Services = ReturnType<typeof createServices>;
