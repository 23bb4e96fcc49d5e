import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export interface ServerProcess {
  readonly name: string;
  readonly url: string;
  readonly pid: number;
  /** Peak resident set size so far (VmHWM), in bytes. */
  peakRss(): number;
  /** Current resident set size (VmRSS), in bytes. */
  rss(): number;
  /** CPU time (user + system) the process has used so far, in seconds. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

export { freePort } from '../test/helpers/ports.js';

/** Reads a `VmXxx:  1234 kB` line of /proc/<pid>/status, in bytes; 0 once the process is gone. */
export function readProcStatus(pid: number, field: 'VmHWM' | 'VmRSS'): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

const CLOCK_TICKS_PER_SECOND = 100;

/** utime + stime of /proc/<pid>/stat, in seconds; 0 once the process is gone. */
export function readCpuSeconds(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces; the fields after its closing parenthesis are fixed.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

async function waitReady(
  url: string,
  child: ChildProcess,
  output: () => string,
  timeoutMs: number,
  readyPath = '/healthz',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${output()}`);
    try {
      const response = await fetch(`${url}${readyPath}`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`server at ${url} not ready after ${timeoutMs} ms:\n${output()}`);
}

export interface SpawnOptions {
  name: string;
  command: string;
  args: string[];
  env: Record<string, string>;
  port: number;
  /** Where stdout goes; the server's request log is thrown away by default, as a log shipper would take it. */
  stdoutFile?: string;
  /** What answers 200 once the server is ready; /healthz by default. */
  readyPath?: string;
}

/** Starts a server process and resolves once /healthz answers. */
export async function startProcess(options: SpawnOptions): Promise<ServerProcess> {
  const stdout = options.stdoutFile ? fs.openSync(options.stdoutFile, 'w') : 'ignore';
  const child = spawn(options.command, options.args, {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', stdout, 'pipe'],
  });
  if (typeof stdout === 'number') fs.closeSync(stdout);
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString('utf8')).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${options.port}`;
  try {
    await waitReady(url, child, () => stderr, 60_000, options.readyPath);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  const pid = child.pid!;
  return {
    name: options.name,
    url,
    pid,
    peakRss: () => readProcStatus(pid, 'VmHWM'),
    rss: () => readProcStatus(pid, 'VmRSS'),
    cpuSeconds: () => readCpuSeconds(pid),
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

const REPO = path.resolve('.');

export interface OurServerOptions {
  databaseUrl: string;
  port: number;
  /** Directory for a V8 CPU profile of the server (node --cpu-prof), written when it exits. */
  cpuProfileDir?: string | undefined;
  env?: Record<string, string>;
}

/** customers-api exactly as an operator runs it: `node ./bin/customers-api serve`, default (info) logging. */
export function startOurServer(options: OurServerOptions): Promise<ServerProcess> {
  const nodeArgs = options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : [];
  return startProcess({
    name: 'customers-api',
    command: process.execPath,
    args: [...nodeArgs, path.join(REPO, 'bin/customers-api'), 'serve'],
    env: {
      DATABASE_URL: options.databaseUrl,
      PORT: String(options.port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ...options.env,
    },
    port: options.port,
  });
}

export function startBaseline(databaseUrl: string, port: number): Promise<ServerProcess> {
  return startProcess({
    name: 'baseline',
    command: process.execPath,
    args: [path.join(REPO, 'bench/.build/bench/baseline/server.js'), databaseUrl, String(port)],
    env: {},
    port,
  });
}
