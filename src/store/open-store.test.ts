import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../config.js';
import { storeOptions } from './open-store.js';

describe('storeOptions', () => {
  it('defaults to a pool of 10, 5 s to connect and 15 s per statement', () => {
    expect(storeOptions(loadConfig({}))).toEqual({ poolSize: 10, connectTimeoutMs: 5000, queryTimeoutMs: 15_000 });
  });

  it('reads DATABASE_POOL_SIZE, DATABASE_CONNECT_TIMEOUT_MS and DATABASE_QUERY_TIMEOUT_MS', () => {
    const config = loadConfig({
      DATABASE_POOL_SIZE: '3',
      DATABASE_CONNECT_TIMEOUT_MS: '750',
      DATABASE_QUERY_TIMEOUT_MS: '2500',
    });
    expect(storeOptions(config)).toEqual({ poolSize: 3, connectTimeoutMs: 750, queryTimeoutMs: 2500 });
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
