import { parseScopes } from '../domain/auth/token-service.js';
import { CONSOLE_CLIENT_ID, consoleClient, type OAuthClient } from '../domain/oauth/clients.js';
import type { Services } from '../services.js';
import { UsageError, type CommandContext } from './command.js';

export interface OAuthCommandOptions {
  organizationIds: string[] | undefined;
  scopes: string[] | undefined;
  name: string | undefined;
  email: string | undefined;
  redirectUris: string[] | undefined;
  public: boolean;
  passwordStdin: boolean;
  /** Base URL shown for the built-in console client's redirect URIs. */
  issuer: string;
  print(human: string, data: unknown): void;
}

/** The options of the client, user and keys commands, read from the command line. */
export function oauthOptions(context: CommandContext): OAuthCommandOptions {
  const config = context.config();
  return {
    organizationIds: context.strings('org'),
    scopes: context.strings('scopes'),
    name: context.string('name'),
    email: context.string('email'),
    redirectUris: context.strings('redirect-uri'),
    public: context.flag('public'),
    passwordStdin: context.flag('password-stdin'),
    issuer: config.publicUrl ?? `http://127.0.0.1:${config.port}`,
    print: (human, data) => context.print(human, data),
  };
}

function organizations(options: OAuthCommandOptions, command: string): string[] {
  const ids = (options.organizationIds ?? [])
    .flatMap((o) => o.split(','))
    .map((o) => o.trim())
    .filter(Boolean);
  if (ids.length === 0) throw new UsageError(`${command} needs --org ORG_ID`);
  return ids;
}

function scopes(options: OAuthCommandOptions, command: string) {
  if (!options.scopes?.length) throw new UsageError(`${command} needs --scopes customers:read[,customers:write]`);
  return parseScopes(options.scopes);
}

function describeClient(client: OAuthClient): string {
  const organizationIds = client.organizationIds === 'user' ? "(the user's)" : client.organizationIds.join(',');
  return [
    client.id,
    client.revokedAt ? 'revoked' : 'active ',
    client.public ? 'public      ' : 'confidential',
    client.scopes.join(','),
    organizationIds,
    client.name,
    client.redirectUris.join(' '),
  ].join('  ');
}

/** `keys list|rotate`: the issuer's signing keys. */
export async function runKeysCommand(services: Services, sub: string | undefined, options: OAuthCommandOptions) {
  const { keys } = services.oauth;
  if (sub === 'list') {
    // Creates the first key when there is none yet, as the first start of the server would.
    await keys.jwks();
    const list = await keys.listKeys();
    options.print(
      list
        .map(
          (k) =>
            `${k.kid}  ${k.alg}  ${k.status}  created ${k.createdAt}${k.publishedUntil ? `  published until ${k.publishedUntil}` : ''}`,
        )
        .join('\n'),
      list,
    );
    return 0;
  }
  if (sub === 'rotate') {
    await keys.jwks();
    const { key, retired } = await keys.rotate();
    options.print(
      `New signing key ${key.kid} (${key.alg}); ${retired} previous key(s) stay in the JWKS until their last token expires. Running servers switch within TOKEN_CACHE_TTL_MS.`,
      { ...key, retired },
    );
    return 0;
  }
  throw new UsageError(`unknown keys command "${sub ?? ''}"; use keys list or keys rotate`);
}

/** `client create|list|revoke`: OAuth clients (LOKE add-ons, or our own apps). */
export async function runClientCommand(
  services: Services,
  sub: string | undefined,
  args: string[],
  options: OAuthCommandOptions,
) {
  const { clients } = services.oauth;
  if (sub === 'create') {
    if (options.name === undefined) throw new UsageError('client create needs --name NAME');
    const created = await clients.createClient({
      name: options.name,
      organizationIds: organizations(options, 'client create'),
      scopes: scopes(options, 'client create'),
      redirectUris: options.redirectUris ?? [],
      public: options.public,
    });
    const data = {
      client_id: created.id,
      ...(created.clientSecret === undefined ? {} : { client_secret: created.clientSecret }),
      token_endpoint_auth_method: created.public ? 'none' : 'client_secret_basic',
      name: created.name,
      scopes: created.scopes,
      organizationIds: created.organizationIds,
      redirectUris: created.redirectUris,
    };
    options.print(
      created.clientSecret === undefined
        ? `Public client ${created.id} "${created.name}" (PKCE, no secret)`
        : `Client ${created.id} "${created.name}"\nclient_secret: ${created.clientSecret}\nThe secret is shown only once; the database keeps only its hash.`,
      data,
    );
    return 0;
  }
  if (sub === 'list') {
    const list = [consoleClient(options.issuer), ...(await clients.listClients())];
    options.print(list.map(describeClient).join('\n'), list);
    return 0;
  }
  if (sub === 'revoke') {
    const id = args[0];
    if (id === undefined) throw new UsageError('client revoke needs a CLIENT_ID');
    if (id === CONSOLE_CLIENT_ID) throw new UsageError('the built-in console client cannot be revoked');
    await clients.revokeClient(id);
    options.print(`Revoked client ${id}; its tokens stop working within TOKEN_CACHE_TTL_MS`, { id, revoked: true });
    return 0;
  }
  throw new UsageError(`unknown client command "${sub ?? ''}"; use client create, client list or client revoke`);
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Reads a line from the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    let value = '';
    const onData = (data: Buffer) => {
      for (const char of data.toString('utf8')) {
        if (char === '\r' || char === '\n') {
          done();
          resolve(value);
          return;
        }
        if (char === '\u0003') {
          done();
          reject(new UsageError('cancelled'));
          return;
        }
        if (char === '\u007f' || char === '\b') value = value.slice(0, -1);
        else value += char;
      }
    };
    const done = () => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
    };
    stdin.on('data', onData);
  });
}

async function readPassword(options: OAuthCommandOptions): Promise<string> {
  if (options.passwordStdin) return (await readStdin()).replace(/\r?\n$/, '');
  if (!process.stdin.isTTY)
    throw new UsageError('user create needs a terminal for the password prompt, or --password-stdin');
  const password = await promptHidden('Password: ');
  if ((await promptHidden('Repeat the password: ')) !== password) throw new UsageError('the passwords differ');
  return password;
}

/** `user create|list`: operator users who sign in at /authorize. */
export async function runUserCommand(services: Services, sub: string | undefined, options: OAuthCommandOptions) {
  const { users } = services.oauth;
  if (sub === 'create') {
    if (options.email === undefined) throw new UsageError('user create needs --email EMAIL');
    const organizationIds = organizations(options, 'user create');
    const userScopes = scopes(options, 'user create');
    const user = await users.createUser({
      email: options.email,
      password: await readPassword(options),
      organizationIds,
      scopes: userScopes,
    });
    options.print(
      `User ${user.id} <${user.email}> (${user.scopes.join(',')}) for ${user.organizationIds.join(', ')}`,
      user,
    );
    return 0;
  }
  if (sub === 'list') {
    const list = await users.listUsers();
    options.print(
      list.map((u) => `${u.id}  ${u.email}  ${u.scopes.join(',')}  ${u.organizationIds.join(',')}`).join('\n') ||
        'No users',
      list,
    );
    return 0;
  }
  throw new UsageError(`unknown user command "${sub ?? ''}"; use user create or user list`);
}
