import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { Scope } from '../../src/domain/auth/token-service.js';
import type { CreateCustomerBody, Customer } from '../../src/contract/customers.js';
import type { Organization } from '../../src/contract/organizations.js';
import { createServices, type ServiceOverrides, type Services } from '../../src/services.js';
import { migrateToLatest, openStore, storeOptions } from '../../src/store/open-store.js';
import type { Store } from '../../src/store/store.js';
import type { Backend } from './backends.js';

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions {
  token?: string | null;
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
}

export interface TestServer {
  backend: Backend['name'];
  config: Config;
  store: Store;
  services: Services;
  app: FastifyInstance;
  /** http://127.0.0.1:<port> */
  baseUrl: string;
  databaseUrl: string;
  /** The server's JSON log lines, parsed; empty unless `LOG_LEVEL` is passed in `env` (the default is silent). */
  logs: Record<string, unknown>[];
  /** The loopback port it listens on. */
  port: number;
  /** Real HTTP over loopback. `token` defaults to the context's default token. */
  request<T = unknown>(method: string, path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
  createOrganization(name?: string): Promise<Organization>;
  createToken(organizationIds: string[], scopes: Scope[]): Promise<string>;
  createCustomer(organizationId: string, body?: Partial<CreateCustomerBody>, token?: string): Promise<Customer>;
  close(): Promise<void>;
}

let counter = 0;

/** Builds the app on a fresh database of the backend and listens on an ephemeral loopback port. */
export async function startTestServer(
  backend: Backend,
  env: Record<string, string> = {},
  overrides: ServiceOverrides = {},
): Promise<TestServer> {
  const database = await backend.createDatabase();
  const config = loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: database.url, TOKEN_CACHE_TTL_MS: '200', ...env });
  const store = await openStore(config.database, storeOptions(config));
  await migrateToLatest(store);
  const services = createServices(store, config, overrides);
  const logs: Record<string, unknown>[] = [];
  const stream = { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) };
  const app = await buildApp({ config, services, logger: { level: config.logLevel, stream } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const baseUrl = `http://127.0.0.1:${port}`;

  const server: TestServer = {
    backend: backend.name,
    config,
    store,
    services,
    app,
    baseUrl,
    databaseUrl: database.url,
    logs,
    port,
    async request<T>(method: string, path: string, options: RequestOptions = {}) {
      const headers: Record<string, string> = { ...options.headers };
      if (options.token) headers.authorization = `Bearer ${options.token}`;
      let body: string | undefined = options.rawBody;
      if (options.body !== undefined) {
        body = JSON.stringify(options.body);
        headers['content-type'] ??= 'application/json';
      }
      const response = await fetch(path.startsWith('http') ? path : `${baseUrl}${path}`, { method, headers, body });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = text === '' ? undefined : JSON.parse(text);
      } catch {
        // not JSON: keep the text
      }
      return { status: response.status, headers: response.headers, body: parsed as T, text };
    },
    createOrganization: (name = `Org ${++counter}`) => services.organizations.createOrganization({ name }),
    async createToken(organizationIds, scopes) {
      return (await services.tokens.createToken({ organizationIds, scopes })).token;
    },
    async createCustomer(organizationId, body = {}, token) {
      const writeToken = token ?? (await server.createToken([organizationId], ['customers:read', 'customers:write']));
      const n = ++counter;
      const response = await server.request<Customer>('POST', `/organizations/${organizationId}/customers`, {
        token: writeToken,
        body: { firstName: `First${n}`, lastName: `Last${n}`, ...body },
      });
      if (response.status !== 201) throw new Error(`createCustomer failed: ${response.status} ${response.text}`);
      return response.body;
    },
    async close() {
      await app.close();
      await store.close();
      await database.drop();
    },
  };
  return server;
}
