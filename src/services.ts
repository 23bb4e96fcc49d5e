import type { Config } from './config.js';
import { createTokenService } from './domain/auth/token-service.js';
import { createCustomerListService } from './domain/customer-lists/customer-list-service.js';
import { createCustomerImportService } from './domain/customers/customer-import.js';
import { createCustomerService } from './domain/customers/customer-service.js';
import { createEventService } from './domain/events/event-service.js';
import { createLedgerService } from './domain/ledgers/ledger-service.js';
import { createOrganizationService } from './domain/organizations/organization-service.js';
import type { Store } from './store/store.js';

/** Everything the transports (HTTP, CLI) call into; built once per store. */
export function createServices(store: Store, config: Pick<Config, 'defaultPhoneRegion' | 'tokenCacheTtlMs'>) {
  return {
    store,
    customers: createCustomerService(store, { defaultPhoneRegion: config.defaultPhoneRegion }),
    organizations: createOrganizationService(store),
    events: createEventService(store),
    customerLists: createCustomerListService(store),
    ledgers: createLedgerService(store),
    tokens: createTokenService(store, { cacheTtlMs: config.tokenCacheTtlMs }),
    customerImport: createCustomerImportService(store, { defaultPhoneRegion: config.defaultPhoneRegion }),
  };
}
export type Services = ReturnType<typeof createServices>;
