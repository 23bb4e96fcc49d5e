import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { availableBackends } from './helpers/backends.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const sqlite = (await availableBackends()).find((backend) => backend.name === 'sqlite')!;

describe('the SQLite writer during an import (bulk load sizing)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(sqlite);
  });
  afterAll(async () => {
    await server?.close();
  });

  const writerPragmas = async () => {
    const cache = await sql<{ cache_size: number }>`pragma cache_size`.execute(server.store.db);
    const checkpoint = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(server.store.db);
    return { cacheSize: cache.rows[0]!.cache_size, walAutocheckpoint: checkpoint.rows[0]!.wal_autocheckpoint };
  };
  const NORMAL = { cacheSize: -16_384, walAutocheckpoint: 1000 };
  const BULK = { cacheSize: -65_536, walAutocheckpoint: 32_768 };

  it('has the larger cache and the rarer checkpoint while an import writes, and gives both back after it', async () => {
    const org = (await server.createOrganization('Bulk')).id;
    expect(await writerPragmas()).toEqual(NORMAL);
    const seen: { cacheSize: number; walAutocheckpoint: number }[] = [];
    async function* chunks() {
      for (let chunk = 0; chunk < 3; chunk++) {
        yield Array.from({ length: 10 }, (_, i) => ({
          line: chunk * 10 + i + 1,
          value: { firstName: 'Bulk', lastName: `Load ${chunk * 10 + i}`, email: `bulk.${chunk}.${i}@example.com` },
        }));
        seen.push(await writerPragmas());
      }
    }
    const totals = await server.services.customerImport.importCustomers(org, chunks(), { batchSize: 10 });
    expect(totals).toMatchObject({ rows: 30, inserted: 30, rejected: 0 });
    expect(seen).toEqual([BULK, BULK, BULK]);
    expect(await writerPragmas()).toEqual(NORMAL);
  });

  it('keeps the bulk sizing until the last of two overlapping imports ends, also when one fails', async () => {
    let releaseFirst!: () => void;
    const firstMayEnd = new Promise<void>((resolve) => (releaseFirst = resolve));
    const first = server.store.bulkLoad(() => firstMayEnd);
    const second = server.store.bulkLoad(async () => {
      expect(await writerPragmas()).toEqual(BULK);
      throw new Error('the second import fails');
    });
    await expect(second).rejects.toThrow('the second import fails');
    expect(await writerPragmas()).toEqual(BULK);
    releaseFirst();
    await first;
    expect(await writerPragmas()).toEqual(NORMAL);
  });
});
