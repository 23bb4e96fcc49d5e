import type { Command } from '../command.js';
import { oauthOptions, runClientCommand } from '../oauth-command-runs.js';

export const client: Command = {
  usage: `client create --name NAME --org ORG_ID [--org ...] --scopes customers:read[,...] [--redirect-uri URL ...] [--public]
                                register an OAuth client (a LOKE add-on); prints client_id and, unless --public,
                                a client_secret shown only once
  client list
  client revoke CLIENT_ID`,
  options: {
    org: { type: 'string', multiple: true },
    scopes: { type: 'string', multiple: true },
    name: { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    public: { type: 'boolean', default: false },
  },
  run: (context) =>
    context.withServices((services) =>
      runClientCommand(services, context.args[0], context.args.slice(1), oauthOptions(context)),
    ),
};
