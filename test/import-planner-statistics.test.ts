import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachBackend } from './helpers/backends.js';
import { runCli } from './helpers/cli.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const ROWS = 400;

await describeEachBackend('planner statistics right after an import', (backend) => {
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    server = await startTestServer(backend);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'customers-analyze-'));
  });
  afterAll(async () => {
    await server?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('analyzes the tables an import filled before the command exits', async () => {
    const org = (await server.createOrganization('Analyzed')).id;
    const file = path.join(dir, 'customers.ndjson');
    const lines = Array.from({ length: ROWS }, (_, i) =>
      JSON.stringify({ firstName: 'Ana', lastName: `Lyze ${i}`, email: `ana.${i}@example.com` }),
    );
    fs.writeFileSync(file, lines.join('\n'));
    const result = await runCli(['import', '--org', org, file, '--json'], { DATABASE_URL: server.databaseUrl });
    expect(JSON.parse(result.stdout)).toMatchObject({ rows: ROWS, inserted: ROWS, rejected: 0 });

    if (backend.name === 'sqlite') {
      // sqlite_stat1's first number is the table's row count as of the last ANALYZE.
      const { rows } = await sql<{ stat: string }>`select stat from sqlite_stat1 where tbl = 'customers'`.execute(
        server.store.db,
      );
      expect(rows.length).toBeGreaterThan(0);
      expect(Math.max(...rows.map((row) => Number(row.stat.split(' ')[0])))).toBeGreaterThanOrEqual(ROWS);
      // The customers' insert triggers filled the insights' counters (one quarter hour here): analyzed too.
      const counters = await sql<{
        stat: string;
      }>`select stat from sqlite_stat1 where tbl = 'insight_counters'`.execute(server.store.db);
      expect(counters.rows.length).toBeGreaterThan(0);
      expect(Number(counters.rows[0]!.stat.split(' ')[0])).toBeGreaterThanOrEqual(1);
    } else {
      const { rows } = await sql<{ relname: string; analyzed: boolean }>`
        select relname, last_analyze is not null as analyzed from pg_stat_user_tables
        where relname in ('customers', 'customer_search', 'events', 'insight_counters')`.execute(server.store.db);
      expect(rows.map((row) => [row.relname, row.analyzed]).sort()).toEqual([
        ['customer_search', true],
        ['customers', true],
        ['events', true],
        ['insight_counters', true],
      ]);
    }
  });
});
