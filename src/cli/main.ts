import { parseArgs } from 'node:util';
import { createContext, UsageError, type CommandOptions } from './command.js';
import { COMMANDS } from './commands/index.js';
import { exitReport } from './exit-codes.js';

const GLOBAL_OPTIONS: CommandOptions = {
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
};

const USAGE = `customers-api <command> [options]

Commands:
${Object.values(COMMANDS)
  .map((command) => `  ${command.usage}`)
  .join('\n')}

Options:
  --json                        machine-readable output
  -h, --help                    this help

Environment: DATABASE_URL (sqlite:<path> | postgres://...), PORT, HOST, PUBLIC_URL, LOG_LEVEL, DEFAULT_PHONE_REGION,
  WORKERS, DATABASE_POOL_SIZE, DATABASE_CONNECT_TIMEOUT_MS, DATABASE_QUERY_TIMEOUT_MS, RATE_LIMIT_PER_MINUTE,
  TOKEN_CACHE_TTL_MS, ACCESS_TOKEN_TTL_SECONDS, REFRESH_TOKEN_TTL_SECONDS, SIGNIN_MAX_FAILURES_PER_ACCOUNT,
  SIGNIN_MAX_FAILURES_PER_ADDRESS, WEBHOOKS_ALLOW_PRIVATE_URLS, WEBHOOK_RETRY_BASE_MS, WEBHOOK_MAX_ATTEMPTS, WEBHOOK_TIMEOUT_MS,
  WEBHOOK_POLL_INTERVAL_MS, WEBHOOK_DELIVERY_RETENTION_DAYS, WEBHOOK_DISPATCHER.`;

/** Every command's options together: enough to tell the command name from option values. */
const ALL_OPTIONS: CommandOptions = Object.values(COMMANDS).reduce<CommandOptions>(
  (all, command) => ({ ...all, ...command.options }),
  GLOBAL_OPTIONS,
);

/** Runs one command; resolves with its exit status (-1 while a server keeps the process alive), throws its error. */
export async function main(argv: string[], env: Record<string, string | undefined>): Promise<number> {
  const first = parseArgs({ args: argv, allowPositionals: true, options: ALL_OPTIONS });
  const [name, ...args] = first.positionals;
  if (first.values.help === true || name === undefined || name === 'help') {
    console.log(USAGE);
    return name === undefined && first.values.help !== true ? 2 : 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) throw new UsageError(`unknown command "${name}"`);
  // Again with only the options this command takes, so a misplaced one is an error rather than ignored.
  const { values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { ...GLOBAL_OPTIONS, ...command.options },
  });
  return command.run(createContext(args, values, env));
}

export async function runCli(argv: string[]) {
  try {
    const code = await main(argv, process.env);
    if (code >= 0) process.exitCode = code;
  } catch (error) {
    const report = exitReport(error);
    if (report.message === undefined) console.error(error);
    else console.error(`error: ${report.message}${report.showUsage ? `\n\n${USAGE}` : ''}`);
    process.exitCode = report.code;
  }
}
