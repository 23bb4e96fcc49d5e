import { ConfigError } from '../config.js';
import { AppError } from '../errors.js';
import { DatabaseConnectError } from '../store/open-store.js';
import { UsageError } from './command.js';
import { CsvError } from '../domain/csv.js';
import { ImportFileError } from './import-export.js';

/** How the CLI reports a failure: the exit status, and whether the usage text helps. */
export interface ExitReport {
  code: number;
  /** Undefined for an unexpected error, which is printed whole, stack included. */
  message: string | undefined;
  showUsage: boolean;
}

/**
 * The one mapping from errors to exit statuses (README: "Exit status"):
 * 2 a usage mistake or a refused request, 1 an environment, database or file
 * problem, 3 something named that does not exist; 4 (rows rejected by an
 * import) is a result, not an error, so the import command returns it itself.
 */
export function exitReport(error: unknown): ExitReport {
  if (error instanceof UsageError) return { code: 2, message: error.message, showUsage: true };
  if ((error as { code?: unknown }).code?.toString().startsWith('ERR_PARSE_ARGS'))
    return { code: 2, message: (error as Error).message, showUsage: true };
  if (
    error instanceof ConfigError ||
    error instanceof DatabaseConnectError ||
    error instanceof ImportFileError ||
    error instanceof CsvError
  )
    return { code: 1, message: error.message, showUsage: false };
  if (error instanceof AppError)
    return { code: error.status === 404 ? 3 : 2, message: error.message, showUsage: false };
  return { code: 1, message: undefined, showUsage: false };
}
