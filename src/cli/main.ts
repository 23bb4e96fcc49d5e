import cluster from 'node:cluster';
import os from 'node:os';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { runClusterPrimary, type ClusterLog } from '../cluster.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { parseScopes } from '../domain/auth/token-service.js';
import { seedDemo, type DemoResult } from '../demo/demo-data.js';
import { AppError } from '../errors.js';
import { once } from 'node:events';
import { ImportFileError, parseFormat, runExport, runImport, type FileFormat } from './import-export.js';
import { CsvError } from './csv.js';
import { formatOpenApiDocument, generateOpenApiDocument } from './openapi-document.js';
import { closeOnSignals, startServer } from '../server.js';
import { createServices, type Services } from '../services.js';
import { countOrganizations, listAllOrganizations } from '../store/repositories/organization-repository.js';
import { DatabaseConnectError, migrateToLatest, openStore, storeOptions } from '../store/open-store.js';
import { organizationRowToOrganization } from '../domain/organizations/organization-service.js';
import { runWebhooksCommand, WebhooksUsageError } from './webhooks-command.js';
import {
  OAuthUsageError,
  runClientCommand,
  runKeysCommand,
  runUserCommand,
  type OAuthCommandOptions,
} from './oauth-commands.js';
import { LOCATION_FLAGS, LocationUsageError, runLocationCommand } from './location-command.js';

const USAGE = `customers-api <command> [options]

Commands:
  serve [--workers N]           run the API server (migrates first; seeds demo data into an empty embedded database);
                                --workers N (or WORKERS=N) runs N processes sharing the port
  migrate                       apply pending database migrations
  org create --name NAME [--currency AUD] [--timezone Australia/Melbourne]
  org list
  token create --org ORG_ID [--org ORG_ID ...] --scopes customers:read[,customers:write,webhooks:manage] [--name NAME]
  token list
  token revoke TOKEN_ID
  client create --name NAME --org ORG_ID [--org ...] --scopes customers:read[,...] [--redirect-uri URL ...] [--public]
                                register an OAuth client (a LOKE add-on); prints client_id and, unless --public,
                                a client_secret shown only once
  client list
  client revoke CLIENT_ID
  user create --email EMAIL --org ORG_ID [--org ...] --scopes customers:read[,...] [--password-stdin]
                                an operator user who signs in at /authorize (password prompted, or read from stdin)
  user list
  keys list                     the OpenID Connect issuer's signing keys
  keys rotate                   a new signing key; old ones stay in the JWKS until their last token expires
  demo [--customers N] [--name NAME]   create a demo organization with customers, lists and a token
  import --org ORG FILE [--format csv|ndjson] [--rejects FILE] [--batch-size N] [--threads N]
                                upsert customers from a CSV or NDJSON file (by id, else by email), streaming
  export --org ORG [--format ndjson|csv] [--output FILE]
                                stream every customer of the organization to stdout or a file
  openapi [--output FILE]       print the OpenAPI document (npm run openapi writes docs/openapi.json)
  location create --org ORG_ID --name NAME [--slug SLUG] [--timezone TZ] [--country CC] [--phone P] [--street S]
                  [--street2 S] [--locality L] [--region R] [--postal-code PC] [--latitude LAT] [--longitude LON]
  location list --org ORG_ID [--query TEXT]
  webhooks list --org ORG_ID
  webhooks deliveries --org ORG_ID --ref REF      recent delivery attempts, newest first
  webhooks retry --org ORG_ID --ref REF DELIVERY_ID   redeliver the event of a failed attempt

Options:
  --json                        machine-readable output
  -h, --help                    this help

Environment: DATABASE_URL (sqlite:<path> | postgres://...), PORT, HOST, PUBLIC_URL, LOG_LEVEL, DEFAULT_PHONE_REGION,
  TOKEN_CACHE_TTL_MS, ACCESS_TOKEN_TTL_SECONDS, REFRESH_TOKEN_TTL_SECONDS, SIGNIN_MAX_FAILURES_PER_ACCOUNT,
  SIGNIN_MAX_FAILURES_PER_ADDRESS,
  WORKERS, DATABASE_POOL_SIZE, DATABASE_CONNECT_TIMEOUT_MS, DATABASE_QUERY_TIMEOUT_MS,
  WEBHOOKS_ALLOW_PRIVATE_URLS, WEBHOOK_RETRY_BASE_MS, WEBHOOK_MAX_ATTEMPTS, WEBHOOK_TIMEOUT_MS, WEBHOOK_POLL_INTERVAL_MS,
  WEBHOOK_DELIVERY_RETENTION_DAYS, WEBHOOK_DISPATCHER.`;

class UsageError extends Error {}

function singleOrg(orgs: string[] | undefined, command: string): string {
  if (orgs?.length !== 1) throw new UsageError(`${command} needs exactly one --org ORG_ID`);
  return orgs[0]!;
}

function parseFileFormat(raw: string | undefined, file: string | undefined): FileFormat {
  try {
    return parseFormat(raw, file, 'ndjson');
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

interface Output {
  json: boolean;
  print(human: string, data: unknown): void;
}

async function withServices<T>(config: Config, run: (services: Services) => Promise<T>): Promise<T> {
  const store = await openStore(config.database, storeOptions(config));
  try {
    await migrateToLatest(store);
    return await run(createServices(store, config));
  } finally {
    await store.close();
  }
}

function printDemo(out: Output, demo: DemoResult, baseUrl: string) {
  const curl = `curl -H 'Authorization: Bearer ${demo.readToken}' '${baseUrl}/organizations/${demo.organization.id}/customers?sort=updated&limit=2'`;
  out.print(
    [
      `Demo organization "${demo.organization.name}" (${demo.organization.id}):`,
      `  ${demo.customers} customers, ${demo.lists} customer lists, ${demo.memberships} memberships`,
      `  read token (customers:read):                  ${demo.readToken}`,
      `  write token (customers:read,customers:write): ${demo.writeToken}`,
      'Tokens are shown only once. Try:',
      `  ${curl}`,
    ].join('\n'),
    { ...demo, curl },
  );
}

async function serve(config: Config, out: Output): Promise<number> {
  if (cluster.isWorker) {
    // The primary has migrated and listens for all of us; it forwards SIGTERM, so a terminal's
    // SIGINT (sent to the whole process group) must not count as a second, hurried signal.
    const server = await startServer(config, { migrate: false });
    process.on('SIGINT', () => undefined);
    closeOnSignals(server, (message) => server.app.log.info(message), ['SIGTERM']);
    return -1;
  }
  if (config.database.kind === 'sqlite') {
    // First run on the embedded default: make the server useful straight away.
    const seeded = await withServices(config, async (services) =>
      (await countOrganizations(services.store.db)) === 0 ? seedDemo(services) : undefined,
    );
    if (seeded)
      printDemo(
        out,
        seeded,
        config.publicUrl ?? `http://${config.host === '0.0.0.0' ? '127.0.0.1' : config.host}:${config.port}`,
      );
  }
  if (config.workers > 1) {
    // Migrate once here, so the workers start on a ready schema instead of queueing on the migration lock.
    await withServices(config, async (services) => services.oauth.keys.jwks());
    const log = primaryLogger(config);
    log.info(
      `customers-api primary ${process.pid}: starting ${config.workers} workers on ${config.host}:${config.port} (${config.database.kind})`,
    );
    return runClusterPrimary(config.workers, log);
  }
  const server = await startServer(config);
  closeOnSignals(server, (message) => server.app.log.info(message));
  server.app.log.info(`customers-api listening on ${server.url} (${config.database.kind})`);
  return -1;
}

const LEVELS = { info: 30, warn: 40 } as const;

/** Log lines of the cluster primary, in the same JSON shape as the workers' (pino) lines. */
function primaryLogger(config: Config): ClusterLog {
  const threshold =
    config.logLevel === 'silent'
      ? Infinity
      : ({ trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const)[config.logLevel];
  const write = (level: keyof typeof LEVELS, msg: string) => {
    if (LEVELS[level] >= threshold)
      console.log(JSON.stringify({ level: LEVELS[level], time: Date.now(), pid: process.pid, msg }));
  };
  return { info: (msg) => write('info', msg), warn: (msg) => write('warn', msg) };
}

export async function main(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
      name: { type: 'string' },
      currency: { type: 'string' },
      timezone: { type: 'string' },
      org: { type: 'string', multiple: true },
      scopes: { type: 'string', multiple: true },
      customers: { type: 'string' },
      workers: { type: 'string' },
      output: { type: 'string', short: 'o' },
      format: { type: 'string' },
      rejects: { type: 'string' },
      'batch-size': { type: 'string' },
      threads: { type: 'string' },
      ref: { type: 'string' },
      email: { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      public: { type: 'boolean', default: false },
      'password-stdin': { type: 'boolean', default: false },
      query: { type: 'string' },
      slug: { type: 'string' },
      country: { type: 'string' },
      phone: { type: 'string' },
      street: { type: 'string' },
      street2: { type: 'string' },
      locality: { type: 'string' },
      region: { type: 'string' },
      'postal-code': { type: 'string' },
      latitude: { type: 'string' },
      longitude: { type: 'string' },
    },
  });
  const out: Output = {
    json: values.json,
    print: (human, data) => console.log(values.json ? JSON.stringify(data) : human),
  };
  const [command, sub, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    console.log(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  const config = loadConfig(values.workers === undefined ? env : { ...env, WORKERS: values.workers });

  switch (command) {
    case 'serve':
      return serve(config, out);
    case 'migrate': {
      const store = await openStore(config.database, storeOptions(config));
      try {
        const applied = await migrateToLatest(store);
        out.print(applied.length ? `Applied ${applied.join(', ')}` : 'Database is up to date', { applied });
      } finally {
        await store.close();
      }
      return 0;
    }
    case 'org':
      return withServices(config, async (services) => {
        if (sub === 'create') {
          if (values.name === undefined) throw new UsageError('org create needs --name NAME');
          const org = await services.organizations.createOrganization({
            name: values.name,
            currency: values.currency,
            timezone: values.timezone,
          });
          out.print(`Created organization ${org.id} "${org.name}" (${org.currency}, ${org.timezone})`, org);
          return 0;
        }
        if (sub === 'list') {
          const orgs = (await listAllOrganizations(services.store.db)).map(organizationRowToOrganization);
          out.print(
            orgs.map((o) => `${o.id}  ${o.name}  ${o.currency}  ${o.timezone}`).join('\n') || 'No organizations',
            orgs,
          );
          return 0;
        }
        throw new UsageError(`unknown org command "${sub ?? ''}"; use org create or org list`);
      });
    case 'token':
      return withServices(config, async (services) => {
        if (sub === 'create') {
          if (!values.org?.length) throw new UsageError('token create needs --org ORG_ID');
          if (!values.scopes?.length)
            throw new UsageError('token create needs --scopes customers:read[,customers:write]');
          const created = await services.tokens.createToken({
            organizationIds: values.org
              .flatMap((o) => o.split(','))
              .map((o) => o.trim())
              .filter(Boolean),
            scopes: parseScopes(values.scopes),
            name: values.name,
          });
          out.print(
            `Token ${created.id} (${created.scopes.join(',')}) for ${created.organizationIds.join(', ')}:\n${created.token}\nIt is shown only once; the database keeps only its hash.`,
            { token: created.token, id: created.id, scopes: created.scopes, organizationIds: created.organizationIds },
          );
          return 0;
        }
        if (sub === 'list') {
          const tokens = await services.tokens.listTokens();
          out.print(
            tokens
              .map(
                (t) =>
                  `${t.id}  ${t.revokedAt ? 'revoked' : 'active '}  ${t.scopes.join(',')}  ${t.organizationIds.join(',')}  ${t.name ?? ''}`,
              )
              .join('\n') || 'No tokens',
            tokens,
          );
          return 0;
        }
        if (sub === 'revoke') {
          const id = rest[0];
          if (id === undefined) throw new UsageError('token revoke needs a TOKEN_ID');
          await services.tokens.revokeToken(id);
          out.print(`Revoked token ${id}; servers stop accepting it within seconds`, { id, revoked: true });
          return 0;
        }
        throw new UsageError(`unknown token command "${sub ?? ''}"; use token create, token list or token revoke`);
      });
    case 'demo':
      return withServices(config, async (services) => {
        const customers = values.customers === undefined ? undefined : Number(values.customers);
        if (customers !== undefined && (!Number.isInteger(customers) || customers < 0 || customers > 10_000_000)) {
          throw new UsageError('--customers must be an integer from 0 to 10000000');
        }
        const demo = await seedDemo(services, { customers, name: values.name });
        printDemo(out, demo, config.publicUrl ?? `http://127.0.0.1:${config.port}`);
        return 0;
      });
    case 'import':
      return withServices(config, async (services) => {
        const organizationId = singleOrg(values.org, 'import');
        const file = sub;
        if (file === undefined || rest.length > 0) throw new UsageError('import needs exactly one FILE');
        const batchSize = values['batch-size'] === undefined ? 1000 : Number(values['batch-size']);
        if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 50_000)
          throw new UsageError('--batch-size must be an integer from 1 to 50000');
        const threads =
          values.threads === undefined
            ? Math.min(4, Math.max(1, os.availableParallelism() - 1))
            : Number(values.threads);
        if (!Number.isInteger(threads) || threads < 0 || threads > 32)
          throw new UsageError('--threads must be an integer from 0 to 32');
        const result = await runImport(services, {
          organizationId,
          file,
          format: parseFileFormat(values.format, file),
          rejectsFile: values.rejects,
          batchSize,
          // Validation (phone numbers above all) runs beside the writer on the other cores.
          workers: threads,
          progress: process.stderr,
        });
        const summary =
          `Imported ${result.rows} rows in ${result.seconds.toFixed(1)} s (${result.rowsPerSecond} rows/s): ` +
          `${result.inserted} inserted, ${result.updated} updated, ${result.unchanged} unchanged, ${result.rejected} rejected` +
          (result.rejectsFile ? ` (see ${result.rejectsFile})` : '');
        if (values.json) console.log(JSON.stringify(result));
        else console.error(summary);
        // A distinct status lets scripts tell "done, but some rows were rejected" from success and from failure.
        return result.rejected > 0 ? 4 : 0;
      });
    case 'export':
      return withServices(config, async (services) => {
        const organizationId = singleOrg(values.org, 'export');
        if (sub !== undefined) throw new UsageError('export takes no FILE argument; use --output FILE');
        const format = parseFileFormat(values.format, values.output);
        const output = values.output === undefined ? process.stdout : fs.createWriteStream(values.output);
        const count = await runExport(services, { organizationId, format, output });
        if (output !== process.stdout) {
          output.end();
          await once(output, 'finish');
        }
        console.error(`Exported ${count} customers${values.output ? ` to ${values.output}` : ''}`);
        return 0;
      });
    case 'openapi': {
      const text = formatOpenApiDocument(await generateOpenApiDocument());
      if (values.output === undefined) process.stdout.write(text);
      else fs.writeFileSync(values.output, text);
      return 0;
    }
    case 'location':
      return withServices(config, async (services) => {
        const flags = Object.fromEntries(
          Object.keys(LOCATION_FLAGS).map((flag) => [flag, values[flag as keyof typeof LOCATION_FLAGS]]),
        );
        try {
          return await runLocationCommand(services, sub, {
            organizationId: values.org === undefined ? undefined : singleOrg(values.org, 'location'),
            flags,
            query: values.query,
            print: (human, data) => out.print(human, data),
          });
        } catch (error) {
          if (error instanceof LocationUsageError) throw new UsageError(error.message);
          throw error;
        }
      });
    case 'webhooks':
      return withServices(config, async (services) => {
        try {
          return await runWebhooksCommand(services, sub, rest, {
            organizationId: values.org?.[0],
            ref: values.ref,
            print: (human, data) => out.print(human, data),
          });
        } catch (error) {
          if (error instanceof WebhooksUsageError) throw new UsageError(error.message);
          throw error;
        }
      });
    case 'keys':
    case 'client':
    case 'user':
      return withServices(config, async (services) => {
        const options: OAuthCommandOptions = {
          organizationIds: values.org,
          scopes: values.scopes,
          name: values.name,
          email: values.email,
          redirectUris: values['redirect-uri'],
          public: values.public,
          passwordStdin: values['password-stdin'],
          issuer: config.publicUrl ?? `http://127.0.0.1:${config.port}`,
          print: (human, data) => out.print(human, data),
        };
        try {
          if (command === 'keys') return await runKeysCommand(services, sub, options);
          if (command === 'client') return await runClientCommand(services, sub, rest, options);
          return await runUserCommand(services, sub, options);
        } catch (error) {
          if (error instanceof OAuthUsageError) throw new UsageError(error.message);
          throw error;
        }
      });
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

export async function runCli(argv: string[]) {
  try {
    const code = await main(argv, process.env);
    if (code >= 0) process.exitCode = code;
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`error: ${error.message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else if (
      error instanceof ConfigError ||
      error instanceof DatabaseConnectError ||
      error instanceof ImportFileError ||
      error instanceof CsvError
    ) {
      console.error(`error: ${error.message}`);
      process.exitCode = 1;
    } else if (error instanceof AppError) {
      console.error(`error: ${error.message}`);
      process.exitCode = error.status === 404 ? 3 : 2;
    } else if ((error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`error: ${(error as Error).message}\n\n${USAGE}`);
      process.exitCode = 2;
    } else {
      console.error(error);
      process.exitCode = 1;
    }
  }
}
