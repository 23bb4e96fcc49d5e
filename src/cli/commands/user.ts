import type { Command } from '../command.js';
import { oauthOptions, runUserCommand } from '../oauth-command-runs.js';

export const user: Command = {
  usage: `user create --email EMAIL --org ORG_ID [--org ...] --scopes customers:read[,...] [--password-stdin]
                                an operator user who signs in at /authorize (password prompted, or read from stdin)
  user list`,
  options: {
    org: { type: 'string', multiple: true },
    scopes: { type: 'string', multiple: true },
    email: { type: 'string' },
    'password-stdin': { type: 'boolean', default: false },
  },
  run: (context) =>
    context.withServices((services) => runUserCommand(services, context.args[0], oauthOptions(context))),
};
