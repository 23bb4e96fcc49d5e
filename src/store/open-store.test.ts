import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.js';
import { storeOptions } from './open-store.js';

describe('storeOptions', () => {
  it('defaults to a pool of 10, 5 s to connect and 15 s per statement', () => {
    expect(storeOptions(loadConfig({}))).toEqual({
      poolSize: 10,
      connectTimeoutMs: 5000,
      queryTimeoutMs: 15_000,
      pooler: 'none',
      replicaUrls: [],
      replicaMaxLagMs: 5000,
      replicaWaitMs: 200,
    });
  });

  it('reads DATABASE_POOL_SIZE, DATABASE_CONNECT_TIMEOUT_MS and DATABASE_QUERY_TIMEOUT_MS', () => {
    const config = loadConfig({
      DATABASE_POOL_SIZE: '3',
      DATABASE_CONNECT_TIMEOUT_MS: '750',
      DATABASE_QUERY_TIMEOUT_MS: '2500',
    });
    expect(storeOptions(config)).toMatchObject({ poolSize: 3, connectTimeoutMs: 750, queryTimeoutMs: 2500 });
  });

  it('reads the pooler, migration URL and replica settings', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://api@pgbouncer.internal:6432/customers',
      DATABASE_POOLER: 'Transaction',
      DATABASE_MIGRATION_URL: 'postgres://owner:secret@db.internal:5432/customers',
      DATABASE_REPLICA_URLS: ' postgres://api@replica-a:5432/customers, postgresql://api@replica-b:5432/customers ,',
      DATABASE_REPLICA_MAX_LAG_MS: '2000',
      DATABASE_REPLICA_WAIT_MS: '50',
    });
    expect(storeOptions(config)).toMatchObject({
      pooler: 'transaction',
      migrationUrl: 'postgres://owner:secret@db.internal:5432/customers',
      replicaUrls: ['postgres://api@replica-a:5432/customers', 'postgresql://api@replica-b:5432/customers'],
      replicaMaxLagMs: 2000,
      replicaWaitMs: 50,
    });
  });

  it('rejects scale-out settings that cannot work', () => {
    const pg = { DATABASE_URL: 'postgres://api@db:5432/customers' };
    for (const [env, message] of [
      [{ ...pg, DATABASE_POOLER: 'session' }, /DATABASE_POOLER must be none or transaction/],
      [{ ...pg, DATABASE_REPLICA_URLS: 'sqlite:./replica.db' }, /DATABASE_REPLICA_URLS must be a postgres:\/\/ URL/],
      [{ ...pg, DATABASE_REPLICA_URLS: 'http://replica' }, /DATABASE_REPLICA_URLS must start with/],
      [{ ...pg, DATABASE_MIGRATION_URL: 'postgres://a:secret@[bad' }, /DATABASE_MIGRATION_URL is not a valid/],
      [{ ...pg, DATABASE_REPLICA_MAX_LAG_MS: 'soon' }, /DATABASE_REPLICA_MAX_LAG_MS must be an integer/],
      [{ DATABASE_REPLICA_URLS: 'postgres://api@replica:5432/c' }, /DATABASE_REPLICA_URLS need a postgres/],
      [{ DATABASE_POOLER: 'transaction' }, /DATABASE_POOLER need a postgres/],
    ] as const) {
      expect(() => loadConfig(env), JSON.stringify(env)).toThrow(message);
    }
    expect(() => loadConfig({ ...pg, DATABASE_MIGRATION_URL: 'postgres://a:secret@[bad' })).not.toThrow(/secret/);
  });

  it('rejects values that would disable or break the bounds', () => {
    for (const [name, value] of [
      ['DATABASE_POOL_SIZE', '0'],
      ['DATABASE_POOL_SIZE', 'many'],
      ['DATABASE_CONNECT_TIMEOUT_MS', '0'],
      ['DATABASE_QUERY_TIMEOUT_MS', '-1'],
      ['DATABASE_QUERY_TIMEOUT_MS', '10s'],
    ] as const) {
      expect(() => loadConfig({ [name]: value }), `${name}=${value}`).toThrow(ConfigError);
      expect(() => loadConfig({ [name]: value })).toThrow(new RegExp(name));
    }
  });
});
