import type { ParseArgsConfig } from 'node:util';
import { loadConfig, type Config } from '../config.js';
import { createServices, type Services } from '../services.js';
import { migrateToLatest, openStore, storeOptions } from '../store/open-store.js';

/** The option declarations of one command, in `node:util` parseArgs form. */
export type CommandOptions = NonNullable<ParseArgsConfig['options']>;

export type OptionValue = string | boolean | (string | boolean)[] | undefined;

/** A mistake in how the command was called: exit status 2 and the usage text. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface CommandContext {
  /** The positionals after the command name: a subcommand and its arguments, or a FILE. */
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly json: boolean;
  /** Prints `human`, or `data` as one JSON line under --json. */
  print(human: string, data: unknown): void;
  /** The value of a string option declared by the command. */
  string(name: string): string | undefined;
  /** Every value of a string option declared with `multiple: true`. */
  strings(name: string): string[] | undefined;
  /** Whether a boolean option declared by the command was given. */
  flag(name: string): boolean;
  /** The configuration from the environment (loaded on first use, so commands that need none never fail on it). */
  config(overrides?: Record<string, string>): Config;
  /** Opens and migrates the database, runs `work`, and closes the database again. */
  withServices<T>(work: (services: Services) => Promise<T>, config?: Config): Promise<T>;
}

/**
 * One CLI command: its lines of the usage text, the options it accepts beyond
 * the global ones, and what it does. It returns the exit status, or -1 when
 * the process must stay alive (a server).
 */
export interface Command {
  readonly usage: string;
  readonly options?: CommandOptions;
  run(context: CommandContext): Promise<number>;
}

export async function withServices<T>(config: Config, work: (services: Services) => Promise<T>): Promise<T> {
  const store = await openStore(config.database, storeOptions(config));
  try {
    await migrateToLatest(store);
    return await work(createServices(store, config));
  } finally {
    await store.close();
  }
}

export function createContext(
  args: readonly string[],
  values: Readonly<Record<string, OptionValue>>,
  env: Readonly<Record<string, string | undefined>>,
): CommandContext {
  const json = values.json === true;
  const loaded = new Map<string, Config>();
  const context: CommandContext = {
    args,
    env,
    json,
    print: (human, data) => console.log(json ? JSON.stringify(data) : human),
    string(name) {
      const value = values[name];
      return typeof value === 'string' ? value : undefined;
    },
    strings(name) {
      const value = values[name];
      return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : undefined;
    },
    flag: (name) => values[name] === true,
    config(overrides = {}) {
      const key = JSON.stringify(overrides);
      let config = loaded.get(key);
      if (config === undefined) loaded.set(key, (config = loadConfig({ ...env, ...overrides })));
      return config;
    },
    withServices: (work, config) => withServices(config ?? context.config(), work),
  };
  return context;
}

/** `--org` given exactly once, for commands that act on one organization. */
export function singleOrganization(context: CommandContext, command: string): string {
  const orgs = context.strings('org');
  if (orgs?.length !== 1) throw new UsageError(`${command} needs exactly one --org ORG_ID`);
  return orgs[0]!;
}

/** An integer option within bounds, or `fallback` when it is absent. */
export function integerOption(
  context: CommandContext,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = context.string(name);
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  return value;
}
