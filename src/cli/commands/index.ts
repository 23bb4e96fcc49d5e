import type { Command } from '../command.js';
import { demo } from './demo.js';
import { exportCommand } from './export.js';
import { importCommand } from './import.js';
import { location } from './location.js';
import { migrate } from './migrate.js';
import { openapi } from './openapi.js';
import { org } from './org.js';
import { serve } from './serve.js';
import { token } from './token.js';
import { webhooks } from './webhooks.js';

/**
 * Every command of the CLI, in the order the usage text lists them. Adding one
 * is a new file in this folder plus its line here.
 */
export const COMMANDS: Readonly<Record<string, Command>> = {
  serve,
  migrate,
  org,
  token,
  demo,
  import: importCommand,
  export: exportCommand,
  openapi,
  location,
  webhooks,
};
