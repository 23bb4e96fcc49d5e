import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { cpuPair, cpuText, paired, pick, type BenchContext } from '../context.js';
import { DATA_DIR, type Dataset, type Samples } from '../data.js';
import { freePort, startProcess, type ServerProcess } from '../processes.js';
import type { Figure } from '../report.js';

/**
 * The peer: Platformatic DB (the REST API generated over a database, what a user might pick instead), installed on
 * demand into bench/.peer (never a dependency of the package), over a copy of the benchmark's customers.
 */
const PEER_VERSION = '2.61.0';
const PEER_DIR = path.resolve('bench/.peer');
const PEER_MAIN = path.join(PEER_DIR, 'node_modules/@platformatic/db/db.mjs');

/** Installs Platformatic DB into bench/.peer unless it is there; false (with a note) when it cannot be. */
function ensurePeer(context: BenchContext): boolean {
  if (fs.existsSync(PEER_MAIN)) return true;
  fs.mkdirSync(PEER_DIR, { recursive: true });
  // The project's better-sqlite3 (same version, its compiled addon copied below): building another from source
  // takes minutes on this machine.
  const ours = JSON.parse(fs.readFileSync('node_modules/better-sqlite3/package.json', 'utf8')) as { version: string };
  fs.writeFileSync(
    path.join(PEER_DIR, 'package.json'),
    JSON.stringify({ private: true, overrides: { 'better-sqlite3': ours.version } }, null, 2),
  );
  try {
    context.log(`installing @platformatic/db@${PEER_VERSION} into bench/.peer`);
    execFileSync(
      'npm',
      ['install', '--no-audit', '--no-fund', '--ignore-scripts', `@platformatic/db@${PEER_VERSION}`],
      { cwd: PEER_DIR, stdio: 'ignore', timeout: 600_000 },
    );
    const addon = path.join(PEER_DIR, 'node_modules/better-sqlite3/build/Release');
    fs.mkdirSync(addon, { recursive: true });
    fs.copyFileSync(
      'node_modules/better-sqlite3/build/Release/better_sqlite3.node',
      path.join(addon, 'better_sqlite3.node'),
    );
    return true;
  } catch (error) {
    context.notes.push(`Platformatic DB could not be installed (${(error as Error).message}): no peer figures.`);
    return false;
  }
}

/**
 * A copy of the dataset's customers for the peer. Platformatic DB takes only varchar/integer/uuid primary keys on
 * SQLite, so the copy declares `id varchar(64) primary key` (ids are unique across organizations) and keeps the
 * same columns, the organization's rows (only them: its `where.organizationId` filter answers 500 on this schema)
 * and indexes on (created, id) and (updated, id), which its `orderby` uses.
 */
function peerDatabase(dataset: Dataset): string {
  const file = path.join(DATA_DIR, `peer-${dataset.customers}.db`);
  if (fs.existsSync(file)) return file;
  const source = dataset.databaseUrl.replace(/^sqlite:(\/\/)?/, '');
  const db = new Database(`${file}.tmp`);
  db.exec(`attach database '${source.replaceAll("'", "''")}' as src`);
  const columns = (
    db.prepare(`select name, type from pragma_table_info('customers', 'src')`).all() as {
      name: string;
      type: string;
    }[]
  ).filter((c) => c.name !== 'id');
  db.exec(
    `create table customers (id varchar(64) primary key, ${columns.map((c) => `"${c.name}" ${c.type || 'text'}`).join(', ')})`,
  );
  const names = ['id', ...columns.map((c) => c.name)].map((n) => `"${n}"`).join(', ');
  db.prepare(`insert into customers (${names}) select ${names} from src.customers where organization_id = ?`).run(
    dataset.organizationId,
  );
  // One organization in the copy, so the indexes that serve its orderby lead with the time.
  db.exec('create index customers_created_idx on customers (created_at desc, id desc)');
  db.exec('create index customers_updated_idx on customers (updated_at desc, id desc)');
  db.exec('detach database src');
  db.close();
  fs.renameSync(`${file}.tmp`, file);
  return file;
}

async function startPeer(file: string): Promise<ServerProcess> {
  const port = await freePort();
  const config = path.join(DATA_DIR, `peer-${port}.json`);
  fs.writeFileSync(
    config,
    JSON.stringify({
      server: { hostname: '127.0.0.1', port, logger: { level: 'warn' } },
      db: { connectionString: `sqlite://${file}`, graphql: false, openapi: true, limit: { default: 1000, max: 1000 } },
    }),
  );
  return startProcess({
    name: 'Platformatic DB',
    command: process.execPath,
    args: [PEER_MAIN, 'start', '-c', config],
    env: {},
    port,
    readyPath: '/customers?limit=1',
  });
}

/** Get by id and its largest page (1000, newest first) on Platformatic DB against ours, same data, same run. */
export async function runPeerBenchmarks(
  context: BenchContext,
  dataset: Dataset,
  ours: ServerProcess,
  token: string,
  samples: Samples,
): Promise<Figure[]> {
  if (!ensurePeer(context)) return [];
  const peer = await startPeer(peerDatabase(dataset));
  const org = dataset.organizationId;
  const figures: Figure[] = [];
  try {
    const pair = { ours, base: peer, token };
    const ourPage = `/organizations/${org}/customers?sort=created`;
    const peerPage = '/customers?limit=1000&orderby.createdAt=desc&orderby.id=desc';
    // Both must serve the same customers, or the comparison means nothing.
    const [a, b] = await Promise.all([
      fetch(`${ours.url}${ourPage}`, { headers: { authorization: `Bearer ${token}` } }).then(
        (r) => r.json() as Promise<unknown>,
      ),
      fetch(`${peer.url}${peerPage}`).then((r) => r.json() as Promise<unknown>),
    ]);
    const ids = (page: unknown) => (page as { id: string }[]).map((c) => c.id).join(',');
    if (ids(a) !== ids(b)) throw new Error('Platformatic DB and customers-api list different customers');
    const section = `Peer: Platformatic DB ${PEER_VERSION} (SQLite, ${dataset.customers.toLocaleString('en')} customers)`;
    context.log('[peer] get by id');
    const get = await paired(
      context,
      pair,
      () => ({ path: `/organizations/${org}/customers/${pick(samples.ids)}` }),
      () => ({ path: `/customers/${pick(samples.ids)}` }),
      context.settings.readConnections,
    );
    figures.push({
      section,
      name: 'get a customer by id: ours vs Platformatic DB',
      ours: get.ours.rps,
      base: get.base.rps,
      cpu: cpuPair(get.ours, get.base, 'µs/request'),
      unit: 'req/s',
      detail: `ours with bearer auth and info logging, the peer with neither; server CPU ${cpuText(get.ours)} vs ${cpuText(get.base)} µs/request`,
      target: { kind: 'ratio', min: 2 },
    });
    context.log('[peer] page of 1000');
    const list = await paired(
      context,
      pair,
      () => ({ path: ourPage }),
      () => ({ path: peerPage }),
      context.settings.listConnections,
    );
    figures.push({
      section,
      name: 'page of 1000, newest first: ours vs Platformatic DB',
      ours: list.ours.rps,
      base: list.base.rps,
      cpu: cpuPair(list.ours, list.base, 'µs/page'),
      unit: 'pages/s',
      detail: `its largest page (limit 1000, orderby createdAt and id); server CPU ${cpuText(list.ours)} vs ${cpuText(list.base)} µs/page`,
      target: { kind: 'ratio', min: 2 },
    });
  } finally {
    await peer.stop();
  }
  return figures;
}
