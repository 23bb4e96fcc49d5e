import { organizationRowToOrganization } from '../../domain/organizations/organization-service.js';
import { listAllOrganizations } from '../../store/repositories/organization-repository.js';
import { UsageError, type Command } from '../command.js';

export const org: Command = {
  usage: `org create --name NAME [--currency AUD] [--timezone Australia/Melbourne]
  org list`,
  options: { name: { type: 'string' }, currency: { type: 'string' }, timezone: { type: 'string' } },
  run: (context) =>
    context.withServices(async (services) => {
      const sub = context.args[0];
      if (sub === 'create') {
        const name = context.string('name');
        if (name === undefined) throw new UsageError('org create needs --name NAME');
        const created = await services.organizations.createOrganization({
          name,
          currency: context.string('currency'),
          timezone: context.string('timezone'),
        });
        context.print(
          `Created organization ${created.id} "${created.name}" (${created.currency}, ${created.timezone})`,
          created,
        );
        return 0;
      }
      if (sub === 'list') {
        const orgs = (await listAllOrganizations(services.store.db)).map(organizationRowToOrganization);
        context.print(
          orgs.map((o) => `${o.id}  ${o.name}  ${o.currency}  ${o.timezone}`).join('\n') || 'No organizations',
          orgs,
        );
        return 0;
      }
      throw new UsageError(`unknown org command "${sub ?? ''}"; use org create or org list`);
    }),
};
