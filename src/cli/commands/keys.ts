import type { Command } from '../command.js';
import { oauthOptions, runKeysCommand } from '../oauth-command-runs.js';

export const keys: Command = {
  usage: `keys list                     the OpenID Connect issuer's signing keys
  keys rotate                   a new signing key; old ones stay in the JWKS until their last token expires`,
  run: (context) =>
    context.withServices((services) => runKeysCommand(services, context.args[0], oauthOptions(context))),
};
