import type { Command } from '../command.js';
import { client } from './client.js';
import { demo } from './demo.js';
import { exportCommand } from './export.js';
import { importCommand } from './import.js';
import { keys } from './keys.js';
import { location } from './location.js';
import { migrate } from './migrate.js';
import { openapi } from './openapi.js';
import { org } from './org.js';
import { serve } from './serve.js';
import { token } from './token.js';
import { user } from './user.js';
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
  client,
  user,
  keys,
  demo,
  import: importCommand,
  export: exportCommand,
  openapi,
  location,
  webhooks,
};
