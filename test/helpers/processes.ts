import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort } from './ports.js';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'bin/customers-api');

/** A port nothing listens on right now (see ./ports.ts). */
export const findFreePort = freePort;

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface SpawnedCli {
  child: ChildProcess;
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when the process has exited. */
  exited: Promise<CliResult>;
}

/** Runs `customers-api <args>` from dist/ (npm test builds first) with only the given environment on top of PATH. */
export function spawnCli(args: string[], env: Record<string, string>): SpawnedCli {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    exited,
  };
}

export function runCli(args: string[], env: Record<string, string>): Promise<CliResult> {
  return spawnCli(args, env).exited;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `url` until it answers 200; fails with the process's output if it exits first or never gets ready. */
export async function waitForReady(url: string, process?: SpawnedCli, attempts = 300): Promise<void> {
  let exited: CliResult | undefined;
  void process?.exited.then((result) => (exited = result));
  for (let i = 0; i < attempts; i++) {
    if (exited)
      throw new Error(
        `server exited before it was ready (${exited.code ?? exited.signal}):\n${exited.stderr}${exited.stdout}`,
      );
    try {
      const response = await fetch(url);
      if (response.status === 200) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  throw new Error(`${url} did not become ready:\n${process?.stderr ?? ''}${process?.stdout ?? ''}`);
}

export interface ServerProcess extends SpawnedCli {
  baseUrl: string;
  port: number;
  /** SIGTERM, then the exit result. */
  stop(): Promise<CliResult>;
}

/** Starts `customers-api serve` on a free loopback port and waits until /readyz answers. */
export async function startServerProcess(env: Record<string, string>, args: string[] = []): Promise<ServerProcess> {
  const port = await findFreePort();
  const spawned = spawnCli(['serve', ...args], { HOST: '127.0.0.1', PORT: String(port), ...env });
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitForReady(`${baseUrl}/readyz`, spawned);
  } catch (error) {
    spawned.child.kill('SIGKILL');
    throw error;
  }
  return Object.assign(spawned, {
    baseUrl,
    port,
    async stop() {
      if (spawned.child.exitCode === null && spawned.child.signalCode === null) spawned.child.kill('SIGTERM');
      return spawned.exited;
    },
  });
}

export interface JsonResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

/** A request with a bearer token and an optional JSON body to a server process; the body parsed (undefined if empty). */
export async function requestJson<T = unknown>(
  server: { baseUrl: string },
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<JsonResponse<T>> {
  const response = await fetch(new URL(path, server.baseUrl), {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: (text === '' ? undefined : JSON.parse(text)) as T,
  };
}
