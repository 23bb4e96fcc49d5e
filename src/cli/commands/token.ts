import { parseScopes } from '../../domain/auth/token-service.js';
import { UsageError, type Command } from '../command.js';

export const token: Command = {
  usage: `token create --org ORG_ID [--org ORG_ID ...] --scopes customers:read[,customers:write,webhooks:manage] [--name NAME]
  token list
  token revoke TOKEN_ID`,
  options: {
    org: { type: 'string', multiple: true },
    scopes: { type: 'string', multiple: true },
    name: { type: 'string' },
  },
  run: (context) =>
    context.withServices(async (services) => {
      const [sub, id] = context.args;
      if (sub === 'create') {
        const orgs = context.strings('org');
        const scopes = context.strings('scopes');
        if (!orgs?.length) throw new UsageError('token create needs --org ORG_ID');
        if (!scopes?.length) throw new UsageError('token create needs --scopes customers:read[,customers:write]');
        const created = await services.tokens.createToken({
          organizationIds: orgs
            .flatMap((o) => o.split(','))
            .map((o) => o.trim())
            .filter(Boolean),
          scopes: parseScopes(scopes),
          name: context.string('name'),
        });
        context.print(
          `Token ${created.id} (${created.scopes.join(',')}) for ${created.organizationIds.join(', ')}:\n${created.token}\nIt is shown only once; the database keeps only its hash.`,
          { token: created.token, id: created.id, scopes: created.scopes, organizationIds: created.organizationIds },
        );
        return 0;
      }
      if (sub === 'list') {
        const tokens = await services.tokens.listTokens();
        context.print(
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
        if (id === undefined) throw new UsageError('token revoke needs a TOKEN_ID');
        await services.tokens.revokeToken(id);
        context.print(`Revoked token ${id}; servers stop accepting it within seconds`, { id, revoked: true });
        return 0;
      }
      throw new UsageError(`unknown token command "${sub ?? ''}"; use token create, token list or token revoke`);
    }),
};
