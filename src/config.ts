import net from 'node:net';
import path from 'node:path';
import { isSupportedCountry, type CountryCode } from 'libphonenumber-js/max';
import { parseHostHeader } from './http/host-header.js';

export type DatabaseTarget =
  | { readonly kind: 'sqlite'; readonly path: string }
  | { readonly kind: 'postgres'; readonly url: string };

export interface Config {
  readonly port: number;
  readonly host: string;
  readonly database: DatabaseTarget;
  /** Base for absolute `X-Next-Page` URLs; when unset the request's own scheme and host are used. */
  readonly publicUrl: string | undefined;
  readonly logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  readonly defaultPhoneRegion: CountryCode;
  readonly workers: number;
  /** PostgreSQL connections per process (DATABASE_POOL_SIZE). */
  readonly databasePoolSize: number;
  /** Longest wait for a new PostgreSQL connection (DATABASE_CONNECT_TIMEOUT_MS). */
  readonly databaseConnectTimeoutMs: number;
  /** Longest wait for one PostgreSQL statement before the request fails with 503 (DATABASE_QUERY_TIMEOUT_MS). */
  readonly databaseQueryTimeoutMs: number;
  /** `transaction` when DATABASE_URL is a pooler in transaction mode such as PgBouncer (DATABASE_POOLER). */
  readonly databasePooler: 'none' | 'transaction';
  /** Where migrations run when not through DATABASE_URL, e.g. PostgreSQL itself behind the pooler (DATABASE_MIGRATION_URL). */
  readonly databaseMigrationUrl: string | undefined;
  /** Streaming replicas that serve read-only requests (DATABASE_REPLICA_URLS, comma-separated). */
  readonly databaseReplicaUrls: readonly string[];
  /** A replica further behind than this is skipped until it catches up (DATABASE_REPLICA_MAX_LAG_MS). */
  readonly databaseReplicaMaxLagMs: number;
  /** Longest wait for a replica to replay a read's consistency token before the primary serves it (DATABASE_REPLICA_WAIT_MS). */
  readonly databaseReplicaWaitMs: number;
  /** How long revocations (static tokens, OAuth clients and tokens) and signing-key changes take to reach every process. */
  readonly tokenCacheTtlMs: number;
  /** Lifetime of OAuth access tokens and ID tokens (ACCESS_TOKEN_TTL_SECONDS). */
  readonly accessTokenTtlSeconds: number;
  /** Lifetime of an OAuth refresh token; each use replaces it with a new one of the same lifetime. */
  readonly refreshTokenTtlSeconds: number;
  /** Failed sign-ins a 15-minute window allows per account (SIGNIN_MAX_FAILURES_PER_ACCOUNT). */
  readonly signInMaxFailuresPerAccount: number;
  /** Failed sign-ins a 15-minute window allows per client address (SIGNIN_MAX_FAILURES_PER_ADDRESS). */
  readonly signInMaxFailuresPerAddress: number;
  /** Requests a minute per token and process; 0 turns rate limiting off. */
  readonly rateLimitPerMinute: number;
  readonly bodyLimitBytes: number;
  /** Largest file POST /organizations/{org}/imports accepts (IMPORT_MAX_BYTES). */
  readonly importMaxBytes: number;
  /** Longest time a client may take to send a whole request, headers and body (REQUEST_TIMEOUT_MS). */
  readonly requestTimeoutMs: number;
  /** Longest silence on a connection, in any phase, before it is closed (CONNECTION_IDLE_TIMEOUT_MS). */
  readonly connectionIdleTimeoutMs: number;
  /**
   * Host names (with an optional port) requests may name in `Host` when PUBLIC_URL is unset (ALLOWED_HOSTS);
   * undefined accepts any syntactically valid host.
   */
  readonly allowedHosts: readonly string[] | undefined;
  /**
   * Which proxies in front may name the client's address in X-Forwarded-For (TRUST_PROXY): false (the default:
   * the socket's address is the client's), a number of hops, or the proxies' addresses and CIDR ranges. The
   * client address limits sign-in attempts and appears in the request log.
   */
  readonly trustProxy: false | number | readonly string[];
  readonly webhooksAllowPrivateUrls: boolean;
  readonly webhookRetryBaseMs: number;
  readonly webhookMaxAttempts: number;
  /** How long a receiver has to answer a delivery. */
  readonly webhookTimeoutMs: number;
  /** How often an idle dispatcher looks for new events (it is also woken by this process's own writes). */
  readonly webhookPollIntervalMs: number;
  /** Whether `startServer` runs the webhook dispatcher; turn off for API-only processes. */
  readonly webhookDispatcher: boolean;
  /** How long delivery attempts stay visible before they are pruned. */
  readonly webhookDeliveryRetentionDays: number;
  /** Customers a segment build evaluates per transaction (SEGMENT_BUILD_BATCH_SIZE). */
  readonly segmentBuildBatchSize: number;
  /** How long a process's claim on a segment build lasts unrenewed before another takes over (SEGMENT_BUILD_LEASE_MS). */
  readonly segmentBuildLeaseMs: number;
  /** How often a process looks for segment builds nobody holds (SEGMENT_BUILD_POLL_INTERVAL_MS). */
  readonly segmentBuildPollIntervalMs: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const DEFAULT_DATABASE_URL = 'sqlite:./data/customers.db';

function parseInteger(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === '') return fallback;
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) throw new ConfigError(`${name} must be between ${min} and ${max}, got ${value}`);
  return value;
}

function parseBoolean(name: string, raw: string | undefined, fallback: boolean): boolean {
  if (raw === undefined || raw === '') return fallback;
  const value = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(value)) return true;
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

function parsePostgresUrl(name: string, raw: string): string {
  const target = parseDatabaseUrl(raw.trim(), name);
  if (target.kind !== 'postgres') throw new ConfigError(`${name} must be a postgres:// URL, got "${redactUrl(raw)}"`);
  return target.url;
}

function parseScaleOut(env: Record<string, string | undefined>, database: DatabaseTarget) {
  const rawPooler = (env.DATABASE_POOLER ?? 'none').trim().toLowerCase() || 'none';
  if (rawPooler !== 'none' && rawPooler !== 'transaction') {
    throw new ConfigError(`DATABASE_POOLER must be none or transaction, got "${env.DATABASE_POOLER}"`);
  }
  const pooler: Config['databasePooler'] = rawPooler;
  const migrationUrl = env.DATABASE_MIGRATION_URL?.trim()
    ? parsePostgresUrl('DATABASE_MIGRATION_URL', env.DATABASE_MIGRATION_URL)
    : undefined;
  const replicaUrls = (env.DATABASE_REPLICA_URLS ?? '')
    .split(',')
    .map((url) => url.trim())
    .filter((url) => url !== '')
    .map((url) => parsePostgresUrl('DATABASE_REPLICA_URLS', url));
  if (database.kind !== 'postgres') {
    const set = [
      pooler !== 'none' && 'DATABASE_POOLER',
      migrationUrl && 'DATABASE_MIGRATION_URL',
      replicaUrls.length > 0 && 'DATABASE_REPLICA_URLS',
    ].filter(Boolean);
    if (set.length > 0) throw new ConfigError(`${set.join(', ')} need a postgres:// DATABASE_URL`);
  }
  return {
    databasePooler: pooler,
    databaseMigrationUrl: migrationUrl,
    databaseReplicaUrls: Object.freeze(replicaUrls),
    databaseReplicaMaxLagMs: parseInteger(
      'DATABASE_REPLICA_MAX_LAG_MS',
      env.DATABASE_REPLICA_MAX_LAG_MS,
      5000,
      0,
      86_400_000,
    ),
    databaseReplicaWaitMs: parseInteger('DATABASE_REPLICA_WAIT_MS', env.DATABASE_REPLICA_WAIT_MS, 200, 0, 60_000),
  };
}

export function parseDatabaseUrl(raw: string, name = 'DATABASE_URL'): DatabaseTarget {
  if (raw.startsWith('sqlite:')) {
    const file = raw.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (file === '') throw new ConfigError('DATABASE_URL "sqlite:" needs a file path, e.g. sqlite:./data/customers.db');
    return { kind: 'sqlite', path: file === ':memory:' ? file : path.resolve(file) };
  }
  if (raw.startsWith('postgres://') || raw.startsWith('postgresql://')) {
    try {
      new URL(raw);
    } catch {
      throw new ConfigError(`${name} is not a valid PostgreSQL URL: ${redactUrl(raw)}`);
    }
    return { kind: 'postgres', url: raw };
  }
  throw new ConfigError(`${name} must start with sqlite: or postgres://, got "${redactUrl(raw)}"`);
}

/** Hides the password of a connection URL so it can be printed in errors and logs. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return raw.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
  }
}

function parseTrustProxy(raw: string | undefined): false | number | readonly string[] {
  const value = (raw ?? '').trim();
  if (value === '' || value.toLowerCase() === 'false') return false;
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops < 1 || hops > 32) throw new ConfigError(`TRUST_PROXY as a hop count must be 1 to 32, got "${raw}"`);
    return hops;
  }
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  for (const entry of entries) {
    const [address, prefix, ...rest] = entry.split('/');
    const family = net.isIP(address ?? '');
    const bits = family === 4 ? 32 : 128;
    const prefixOk = prefix === undefined || (/^\d+$/.test(prefix) && Number(prefix) <= bits);
    if (family === 0 || !prefixOk || rest.length > 0) {
      throw new ConfigError(
        `TRUST_PROXY must be false, a hop count, or proxy addresses/CIDR ranges separated by commas, got "${entry}"`,
      );
    }
  }
  return Object.freeze(entries);
}

function parseAllowedHosts(raw: string | undefined): readonly string[] | undefined {
  if (raw === undefined || raw.trim() === '') return undefined;
  const hosts = raw
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '');
  for (const host of hosts) {
    if (parseHostHeader(host) === undefined) {
      throw new ConfigError(`ALLOWED_HOSTS must list host names or host:port pairs, got "${host}"`);
    }
  }
  return Object.freeze(hosts);
}

/** 1 GiB: a few million customers of CSV. */
export const DEFAULT_IMPORT_MAX_BYTES = 1024 ** 3;

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const logLevel = (env.LOG_LEVEL ?? 'info').trim().toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got "${env.LOG_LEVEL}"`);
  }
  const region = (env.DEFAULT_PHONE_REGION ?? 'AU').trim().toUpperCase();
  if (!isSupportedCountry(region)) {
    throw new ConfigError(
      `DEFAULT_PHONE_REGION must be an ISO 3166-1 alpha-2 region such as AU, got "${env.DEFAULT_PHONE_REGION}"`,
    );
  }
  let publicUrl: string | undefined;
  if (env.PUBLIC_URL !== undefined && env.PUBLIC_URL !== '') {
    let parsed: URL;
    try {
      parsed = new URL(env.PUBLIC_URL);
    } catch {
      throw new ConfigError(`PUBLIC_URL must be an absolute http(s) URL, got "${env.PUBLIC_URL}"`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new ConfigError(`PUBLIC_URL must be an absolute http(s) URL, got "${env.PUBLIC_URL}"`);
    }
    publicUrl = parsed.toString().replace(/\/$/, '');
  }
  const host = (env.HOST ?? '127.0.0.1').trim();
  if (host === '') throw new ConfigError('HOST must not be empty');

  const database = parseDatabaseUrl(env.DATABASE_URL ?? DEFAULT_DATABASE_URL);

  return Object.freeze({
    port: parseInteger('PORT', env.PORT, 3000, 0, 65535),
    host,
    database,
    publicUrl,
    logLevel: logLevel as Config['logLevel'],
    defaultPhoneRegion: region,
    workers: parseInteger('WORKERS', env.WORKERS, 1, 1, 256),
    databasePoolSize: parseInteger('DATABASE_POOL_SIZE', env.DATABASE_POOL_SIZE, 10, 1, 1000),
    databaseConnectTimeoutMs: parseInteger(
      'DATABASE_CONNECT_TIMEOUT_MS',
      env.DATABASE_CONNECT_TIMEOUT_MS,
      5000,
      100,
      600_000,
    ),
    databaseQueryTimeoutMs: parseInteger(
      'DATABASE_QUERY_TIMEOUT_MS',
      env.DATABASE_QUERY_TIMEOUT_MS,
      15_000,
      100,
      3_600_000,
    ),
    ...parseScaleOut(env, database),
    tokenCacheTtlMs: parseInteger('TOKEN_CACHE_TTL_MS', env.TOKEN_CACHE_TTL_MS, 5000, 0, 600_000),
    accessTokenTtlSeconds: parseInteger('ACCESS_TOKEN_TTL_SECONDS', env.ACCESS_TOKEN_TTL_SECONDS, 3600, 1, 86_400),
    refreshTokenTtlSeconds: parseInteger(
      'REFRESH_TOKEN_TTL_SECONDS',
      env.REFRESH_TOKEN_TTL_SECONDS,
      30 * 86_400,
      60,
      365 * 86_400,
    ),
    signInMaxFailuresPerAccount: parseInteger(
      'SIGNIN_MAX_FAILURES_PER_ACCOUNT',
      env.SIGNIN_MAX_FAILURES_PER_ACCOUNT,
      5,
      1,
      10_000,
    ),
    signInMaxFailuresPerAddress: parseInteger(
      'SIGNIN_MAX_FAILURES_PER_ADDRESS',
      env.SIGNIN_MAX_FAILURES_PER_ADDRESS,
      50,
      1,
      1_000_000,
    ),
    rateLimitPerMinute: parseInteger('RATE_LIMIT_PER_MINUTE', env.RATE_LIMIT_PER_MINUTE, 0, 0, 100_000_000),
    bodyLimitBytes: 1024 * 1024,
    importMaxBytes: parseInteger('IMPORT_MAX_BYTES', env.IMPORT_MAX_BYTES, DEFAULT_IMPORT_MAX_BYTES, 1, 2 ** 40),
    requestTimeoutMs: parseInteger('REQUEST_TIMEOUT_MS', env.REQUEST_TIMEOUT_MS, 30_000, 100, 3_600_000),
    // Above the 72 s keep-alive timeout, so idle keep-alive connections still close the usual way.
    connectionIdleTimeoutMs: parseInteger(
      'CONNECTION_IDLE_TIMEOUT_MS',
      env.CONNECTION_IDLE_TIMEOUT_MS,
      90_000,
      100,
      3_600_000,
    ),
    allowedHosts: parseAllowedHosts(env.ALLOWED_HOSTS),
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    webhooksAllowPrivateUrls: parseBoolean('WEBHOOKS_ALLOW_PRIVATE_URLS', env.WEBHOOKS_ALLOW_PRIVATE_URLS, false),
    webhookRetryBaseMs: parseInteger('WEBHOOK_RETRY_BASE_MS', env.WEBHOOK_RETRY_BASE_MS, 10_000, 1, 86_400_000),
    webhookMaxAttempts: parseInteger('WEBHOOK_MAX_ATTEMPTS', env.WEBHOOK_MAX_ATTEMPTS, 5, 1, 100),
    webhookTimeoutMs: parseInteger('WEBHOOK_TIMEOUT_MS', env.WEBHOOK_TIMEOUT_MS, 10_000, 1, 300_000),
    webhookPollIntervalMs: parseInteger('WEBHOOK_POLL_INTERVAL_MS', env.WEBHOOK_POLL_INTERVAL_MS, 250, 1, 60_000),
    webhookDispatcher: parseBoolean('WEBHOOK_DISPATCHER', env.WEBHOOK_DISPATCHER, true),
    webhookDeliveryRetentionDays: parseInteger(
      'WEBHOOK_DELIVERY_RETENTION_DAYS',
      env.WEBHOOK_DELIVERY_RETENTION_DAYS,
      30,
      1,
      3650,
    ),
    segmentBuildBatchSize: parseInteger('SEGMENT_BUILD_BATCH_SIZE', env.SEGMENT_BUILD_BATCH_SIZE, 1000, 1, 100_000),
    segmentBuildLeaseMs: parseInteger('SEGMENT_BUILD_LEASE_MS', env.SEGMENT_BUILD_LEASE_MS, 30_000, 100, 3_600_000),
    segmentBuildPollIntervalMs: parseInteger(
      'SEGMENT_BUILD_POLL_INTERVAL_MS',
      env.SEGMENT_BUILD_POLL_INTERVAL_MS,
      5_000,
      10,
      3_600_000,
    ),
  });
}
