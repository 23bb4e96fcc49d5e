import * as client from 'openid-client';
import { runCli } from './cli.js';
import type { TestServer } from './test-server.js';

export interface RegisteredClient {
  client_id: string;
  client_secret?: string;
  token_endpoint_auth_method: string;
  redirectUris: string[];
}

/** Registers an OAuth client through the operator CLI, as an operator would. */
export async function createClientWithCli(server: TestServer, args: string[]): Promise<RegisteredClient> {
  const result = await runCli(['client', 'create', ...args, '--json'], { DATABASE_URL: server.databaseUrl });
  if (result.code !== 0) throw new Error(`client create failed (${result.code}): ${result.stderr}`);
  return JSON.parse(result.stdout) as RegisteredClient;
}

/** Creates an operator user through the CLI, the password on stdin. */
export async function createUserWithCli(server: TestServer, args: string[], password: string) {
  const { spawn } = await import('node:child_process');
  const { CLI, REPO_ROOT } = await import('./cli.js');
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'user', 'create', ...args, '--password-stdin', '--json'], {
      cwd: REPO_ROOT,
      env: { ...process.env, LOG_LEVEL: 'warn', DATABASE_URL: server.databaseUrl },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(`${password}\n`);
  });
}

/** An off-the-shelf OpenID client (openid-client, as LOKE add-ons use) configured by discovery against the server. */
export function discover(
  server: TestServer,
  clientId: string,
  auth: client.ClientAuth,
  metadata: Partial<client.ClientMetadata> = {},
): Promise<client.Configuration> {
  return client.discovery(new URL(server.baseUrl), clientId, metadata, auth, {
    // The test server speaks plain HTTP on loopback.
    execute: [client.allowInsecureRequests],
  });
}

/** Polls until `check` holds; for effects that take up to TOKEN_CACHE_TTL_MS to appear. */
export async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export function basicAuth(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`;
}
