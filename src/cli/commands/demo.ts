import { seedDemo, type DemoResult } from '../../demo/demo-data.js';
import { integerOption, type Command, type CommandContext } from '../command.js';

export function printDemo(context: CommandContext, demo: DemoResult, baseUrl: string) {
  const consoleUrl = `${baseUrl}/console/`;
  const curl = `curl -H 'Authorization: Bearer ${demo.readToken}' '${baseUrl}/organizations/${demo.organization.id}/customers?sort=updated&limit=2'`;
  context.print(
    [
      `Demo organization "${demo.organization.name}" (${demo.organization.id}):`,
      `  ${demo.customers} customers, ${demo.lists} customer lists, ${demo.memberships} memberships`,
      `  ${demo.locations} locations, ${demo.payments} payments`,
      `  read token (customers:read):                  ${demo.readToken}`,
      `  write token (customers:read,customers:write): ${demo.writeToken}`,
      'Tokens are shown only once. Try:',
      `  ${curl}`,
      `  or open the console at ${consoleUrl} and paste a token`,
    ].join('\n'),
    { ...demo, curl, consoleUrl },
  );
}

export const demo: Command = {
  usage: `demo [--customers N] [--name NAME]   create a demo organization with customers, lists and a token`,
  options: { customers: { type: 'string' }, name: { type: 'string' } },
  async run(context) {
    const config = context.config();
    const customers =
      context.string('customers') === undefined ? undefined : integerOption(context, 'customers', 0, 0, 10_000_000);
    return context.withServices(async (services) => {
      const result = await seedDemo(services, { customers, name: context.string('name') });
      printDemo(context, result, config.publicUrl ?? `http://127.0.0.1:${config.port}`);
      return 0;
    });
  },
};
