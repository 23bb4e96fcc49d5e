import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactUrl } from './config.js';

describe('loadConfig', () => {
  it('has defaults that run on embedded SQLite', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      logLevel: 'info',
      defaultPhoneRegion: 'AU',
      publicUrl: undefined,
    });
    expect(config.database).toEqual({ kind: 'sqlite', path: expect.stringMatching(/data\/customers\.db$/) });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads every setting', () => {
    const config = loadConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      DATABASE_URL: 'postgres://u:p@db:5432/customers',
      PUBLIC_URL: 'https://api.example.com/',
      LOG_LEVEL: 'WARN',
      DEFAULT_PHONE_REGION: 'nz',
    });
    expect(config).toMatchObject({
      port: 8080,
      host: '0.0.0.0',
      database: { kind: 'postgres', url: 'postgres://u:p@db:5432/customers' },
      publicUrl: 'https://api.example.com',
      logLevel: 'warn',
      defaultPhoneRegion: 'NZ',
    });
  });

  it('rejects invalid values with a message naming the variable', () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ PORT: '70000' }, /PORT/],
      [{ PORT: '3e3' }, /PORT/],
      [{ LOG_LEVEL: 'loud' }, /LOG_LEVEL/],
      [{ DATABASE_URL: 'mysql://x' }, /DATABASE_URL/],
      [{ DATABASE_URL: 'sqlite:' }, /DATABASE_URL/],
      [{ PUBLIC_URL: 'ftp://x' }, /PUBLIC_URL/],
      [{ PUBLIC_URL: 'not a url' }, /PUBLIC_URL/],
      [{ DEFAULT_PHONE_REGION: 'ZZ' }, /DEFAULT_PHONE_REGION/],
      [{ WEBHOOKS_ALLOW_PRIVATE_URLS: 'maybe' }, /WEBHOOKS_ALLOW_PRIVATE_URLS/],
    ];
    for (const [env, message] of cases) expect(() => loadConfig(env)).toThrow(message);
    expect(() => loadConfig({ PORT: '-1' })).toThrow(ConfigError);
  });

  it('redacts passwords from URLs', () => {
    expect(redactUrl('postgres://app:hunter2@db/x')).toBe('postgres://app:***@db/x');
    expect(redactUrl('postgres://db/x')).toBe('postgres://db/x');
  });
});
