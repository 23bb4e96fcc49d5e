import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachBackend } from './helpers/backends.js';
import { freePort, runCli, startServe } from './helpers/cli.js';

await describeEachBackend('operator CLI', (backend) => {
  let env: Record<string, string>;
  let drop: () => Promise<void>;
  beforeAll(async () => {
    const db = await backend.createDatabase();
    env = { DATABASE_URL: db.url };
    drop = () => db.drop();
  });
  afterAll(async () => drop?.());

  it('migrates, creates organizations and tokens, lists and revokes them', async () => {
    const migrate = await runCli(['migrate', '--json'], env);
    expect(migrate.code, migrate.stderr).toBe(0);
    expect(JSON.parse(migrate.stdout)).toHaveProperty('applied');

    const org = await runCli(
      ['org', 'create', '--name', 'Acme Pty Ltd', '--currency', 'nzd', '--timezone', 'Pacific/Auckland', '--json'],
      env,
    );
    expect(org.code, org.stderr).toBe(0);
    const organization = JSON.parse(org.stdout) as { id: string; name: string; currency: string; timezone: string };
    expect(organization).toMatchObject({ name: 'Acme Pty Ltd', currency: 'NZD', timezone: 'Pacific/Auckland' });

    const human = await runCli(['org', 'create', '--name', 'Second'], env);
    expect(human.stdout).toMatch(/^Created organization [0-9A-Z]{26} "Second"/);

    const token = await runCli(
      ['token', 'create', '--org', organization.id, '--scopes', 'customers:read,customers:write', '--json'],
      env,
    );
    expect(token.code, token.stderr).toBe(0);
    const created = JSON.parse(token.stdout) as { token: string; id: string };
    expect(created.token).toMatch(/^cat_[A-Za-z0-9_-]{43}$/);

    const list = await runCli(['token', 'list', '--json'], env);
    const tokens = JSON.parse(list.stdout) as { id: string; scopes: string[]; revokedAt?: string }[];
    expect(tokens.find((t) => t.id === created.id)).toMatchObject({ scopes: ['customers:read', 'customers:write'] });
    expect(list.stdout).not.toContain(created.token);

    const revoke = await runCli(['token', 'revoke', created.id], env);
    expect(revoke.code, revoke.stderr).toBe(0);
    const again = await runCli(['token', 'revoke', created.id], env);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/not found/);
    const listed = JSON.parse((await runCli(['token', 'list', '--json'], env)).stdout) as {
      id: string;
      revokedAt?: string;
    }[];
    expect(listed.find((t) => t.id === created.id)?.revokedAt).toBeDefined();
  });

  it('explains bad usage with a non-zero exit and changes nothing', async () => {
    const before = (await runCli(['org', 'list', '--json'], env)).stdout;
    for (const args of [
      ['org', 'create'],
      ['org', 'create', '--name', 'X', '--currency', 'EURO'],
      ['org', 'create', '--name', 'X', '--timezone', 'Mars/Olympus'],
      ['token', 'create', '--org', '01FCCGYZA9JPQ97HBSTKW0KT7P', '--scopes', 'customers:read'],
      ['token', 'create', '--org', 'x', '--scopes', 'customers:admin'],
      ['token', 'create', '--scopes', 'customers:read'],
      ['frobnicate'],
      ['org', 'create', '--nmae', 'typo'],
    ]) {
      const result = await runCli(args, env);
      expect(result.code, args.join(' ')).not.toBe(0);
      expect(result.stderr, args.join(' ')).toMatch(/error:/);
    }
    expect((await runCli(['org', 'list', '--json'], env)).stdout).toBe(before);
  });

  it('seeds demo data with a working read token', async () => {
    const demo = await runCli(['demo', '--customers', '300', '--json'], env);
    expect(demo.code, demo.stderr).toBe(0);
    const result = JSON.parse(demo.stdout) as {
      organization: { id: string };
      customers: number;
      readToken: string;
      curl: string;
    };
    expect(result.customers).toBe(300);
    expect(result.curl).toContain(result.readToken);
  });
});

describe('configuration errors', () => {
  it('refuses a bad DATABASE_URL or PORT with a clear message', async () => {
    const bad = await runCli(['migrate'], { DATABASE_URL: 'mysql://localhost/x' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/DATABASE_URL must start with sqlite: or postgres:\/\//);
    const port = await runCli(['migrate'], { PORT: 'eighty' });
    expect(port.stderr).toMatch(/PORT must be an integer/);
    const region = await runCli(['migrate'], { DEFAULT_PHONE_REGION: 'XX' });
    expect(region.stderr).toMatch(/DEFAULT_PHONE_REGION/);
  });

  it('names the database it cannot reach, without the password', async () => {
    const port = await freePort();
    const result = await runCli(['migrate'], { DATABASE_URL: `postgres://app:hunter2@127.0.0.1:${port}/db` });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`Cannot connect to PostgreSQL at postgres://app:\\*\\*\\*@127\\.0\\.0\\.1:${port}/db`),
    );
    expect(result.stderr).not.toContain('hunter2');
  });
});

describe('serve on an empty embedded database', () => {
  it('seeds a demo organization, prints a token and a curl line that work, and drains on SIGTERM', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'customers-api-serve-'));
    const port = await freePort();
    const server = startServe([], {
      DATABASE_URL: `sqlite:${path.join(dir, 'customers.db')}`,
      PORT: String(port),
      LOG_LEVEL: 'info',
    });
    try {
      const [, token] = await server.waitFor(/read token \(customers:read\):\s+(cat_\S+)/);
      const [, url] = await server.waitFor(/curl -H 'Authorization: Bearer cat_\S+' '([^']+)'/);
      await server.waitFor(/listening on/);
      expect(url).toContain(`http://127.0.0.1:${port}/organizations/`);
      const res = await fetch(url!, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      const customers = (await res.json()) as unknown[];
      expect(customers).toHaveLength(2);
      expect(res.headers.get('x-next-page')).toContain('after=');
      const orgs = (await (
        await fetch(`http://127.0.0.1:${port}/organizations`, { headers: { authorization: `Bearer ${token}` } })
      ).json()) as unknown[];
      expect(orgs).toHaveLength(1);
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    } finally {
      server.child.kill('SIGKILL');
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
