/**
 * Same-run A/B of the per-request reads between builds of customers-api and the bare baseline: get a customer, or
 * the seed's `?email=` / `?phoneNumber=` search. Each build is a directory with `bin/` and `dist/` (a second
 * worktree at another commit, built); all servers run on the same dataset, and every round measures each of them in
 * turn, the order reversed every other round, so that the machine's load hits all of them alike. Prints server CPU
 * per request (the figure that load moves least) and its ratio to the baseline's, per round.
 *
 *   tsc -p bench/tsconfig.json && node bench/.build/bench/read-ab.js <databaseUrl> <organizationId> \
 *     <get|email|phone> <rounds> <seconds> <name>=<build dir> [<name>=<build dir> ...]
 */
import path from 'node:path';
import { pick } from './context.js';
import { createTokens, sampleCustomers } from './data.js';
import { runLoad, type LoadResult } from './load.js';
import { freePort, startBaseline, startProcess, type ServerProcess } from './processes.js';

const KINDS = ['get', 'email', 'phone'] as const;
type Kind = (typeof KINDS)[number];

async function main() {
  const [databaseUrl, organizationId, kindArg, roundsArg, secondsArg, ...builds] = process.argv.slice(2);
  const kind = kindArg as Kind;
  if (!databaseUrl || !organizationId || !KINDS.includes(kind) || builds.length === 0)
    throw new Error('usage: read-ab <databaseUrl> <organizationId> <get|email|phone> <rounds> <seconds> name=dir...');
  const rounds = Number(roundsArg ?? '4');
  const seconds = Number(secondsArg ?? '3');
  const backend = databaseUrl.startsWith('postgres') ? 'postgres' : 'sqlite';
  const dataset = { backend, databaseUrl, organizationId, customers: 0, loadSeconds: 0, reused: true } as const;
  const tokens = await createTokens(databaseUrl, [organizationId]);
  const samples = await sampleCustomers(dataset, 20_000);
  const base = `/organizations/${organizationId}/customers`;
  const next = (): { path: string } =>
    kind === 'get'
      ? { path: `${base}/${pick(samples.ids)}` }
      : kind === 'email'
        ? { path: `${base}?email=${encodeURIComponent(pick(samples.emails))}` }
        : { path: `${base}?phoneNumber=${encodeURIComponent(pick(samples.phones))}` };

  const servers: { name: string; token: string | undefined; process: ServerProcess }[] = [];
  try {
    for (const build of builds) {
      const [name, dir] = build.split('=') as [string, string | undefined];
      if (!dir) throw new Error(`a build is name=dir, got ${build}`);
      const port = await freePort();
      const server = await startProcess({
        name,
        command: process.execPath,
        args: [path.join(path.resolve(dir), 'bin/customers-api'), 'serve'],
        env: { DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'info' },
        port,
      });
      servers.push({ name, token: tokens.read, process: server });
    }
    servers.push({ name: 'baseline', token: undefined, process: await startBaseline(databaseUrl, await freePort()) });

    const results = new Map<string, LoadResult[]>(servers.map((s) => [s.name, []]));
    for (let round = 0; round < rounds; round++) {
      for (const server of round % 2 === 0 ? servers : [...servers].reverse()) {
        const headers: Record<string, string> = server.token ? { authorization: `Bearer ${server.token}` } : {};
        const url = server.process.url;
        await runLoad({ url, next, headers, connections: 10, seconds: 1 });
        const result = await runLoad({
          url,
          next,
          headers,
          connections: 10,
          seconds,
          cpuSeconds: () => server.process.cpuSeconds(),
        });
        if (result.failures > 0) console.log(`${server.name}: ${result.failures} failed requests`);
        results.get(server.name)!.push(result);
      }
      const baseline = results.get('baseline')![round]!.cpuMicros;
      const line = servers.map((s) => {
        const cpu = results.get(s.name)![round]!.cpuMicros;
        const ratio = cpu && baseline ? ` (${(baseline / cpu).toFixed(2)}×)` : '';
        return `${s.name} ${cpu?.toFixed(1) ?? '?'} µs${ratio}`;
      });
      console.log(`round ${round} ${kind}: ${line.join(', ')}`);
    }
  } finally {
    for (const server of servers) await server.process.stop();
  }
}

await main();
