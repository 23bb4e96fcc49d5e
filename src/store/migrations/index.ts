import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './2026-11-27T0900-initial.js';
import * as eventsListsLedgers from './2026-11-27T1000-events-lists-ledgers.js';
import * as webhooks from './2026-11-27T1100-webhooks.js';
import * as oauth from './2026-12-02T0400-oauth.js';
import * as locations from './2026-12-02T0500-locations.js';
import * as idempotencyTombstones from './2026-12-02T0530-idempotency-tombstones.js';
import * as customerMetadata from './2026-12-02T0620-customer-metadata.js';
import * as organizationTinyPayloads from './2026-12-02T0630-organization-tiny-payloads.js';
import * as payments from './2026-12-02T0640-payments.js';
import * as customerSearch from './2026-12-02T0645-customer-search.js';
import * as consoleApi from './2026-12-03T0200-console.js';
import * as segments from './2026-12-03T0250-segments.js';
import * as segmentVersion from './2026-12-04T0100-segment-version.js';
import * as insightCounters from './2026-12-04T0500-insight-counters.js';
import * as phoneSuffixes from './2026-12-06T0200-phone-suffixes.js';

/** Every migration, by its frozen name; listed here so the build needs no directory scan. */
const MIGRATIONS: Record<string, Migration> = {
  '2026-11-27T0900-initial': initial,
  '2026-11-27T1000-events-lists-ledgers': eventsListsLedgers,
  '2026-11-27T1100-webhooks': webhooks,
  '2026-12-02T0400-oauth': oauth,
  '2026-12-02T0500-locations': locations,
  '2026-12-02T0530-idempotency-tombstones': idempotencyTombstones,
  '2026-12-02T0620-customer-metadata': customerMetadata,
  '2026-12-02T0630-organization-tiny-payloads': organizationTinyPayloads,
  '2026-12-02T0640-payments': payments,
  '2026-12-02T0645-customer-search': customerSearch,
  '2026-12-03T0200-console': consoleApi,
  '2026-12-03T0250-segments': segments,
  '2026-12-04T0100-segment-version': segmentVersion,
  '2026-12-04T0500-insight-counters': insightCounters,
  '2026-12-06T0200-phone-suffixes': phoneSuffixes,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: () => Promise.resolve(MIGRATIONS),
};
