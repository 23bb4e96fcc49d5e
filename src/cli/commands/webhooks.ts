import type { Services } from '../../services.js';
import { UsageError, type Command, type CommandContext } from '../command.js';

async function list(services: Services, context: CommandContext, organizationId: string) {
  const page = await services.webhooks.listWebhooks(organizationId, {});
  context.print(
    page.items.map((w) => `${w.ref}  ${w.url}  ${w.events.join(',')}`).join('\n') || 'No webhooks',
    page.items,
  );
  return 0;
}

async function deliveries(services: Services, context: CommandContext, organizationId: string, ref: string) {
  const page = await services.webhooks.listDeliveries(organizationId, ref, {});
  context.print(
    page.items
      .map((d) =>
        [
          d.id,
          d.attemptedAt,
          `#${d.eventSequence}`,
          d.event,
          `attempt ${d.attempt}`,
          d.status,
          d.responseStatus ?? '-',
          d.error ?? '',
          d.nextAttemptAt ? `next ${d.nextAttemptAt}` : '',
        ]
          .join('  ')
          .trimEnd(),
      )
      .join('\n') || 'No deliveries',
    page.items,
  );
  return 0;
}

async function retry(services: Services, context: CommandContext, organizationId: string, ref: string) {
  const deliveryId = context.args[1];
  if (deliveryId === undefined) throw new UsageError('webhooks retry needs a DELIVERY_ID (see webhooks deliveries)');
  const replay = await services.webhooks.retryDelivery(organizationId, ref, deliveryId);
  context.print(
    `Queued redelivery ${replay.id} of event #${replay.eventSequence} (${replay.event}); a running server delivers it`,
    replay,
  );
  return 0;
}

/**
 * The operator's view of subscriptions, through the same service as the HTTP
 * API (no token needed: the CLI has the database).
 */
export const webhooks: Command = {
  usage: `webhooks list --org ORG_ID
  webhooks deliveries --org ORG_ID --ref REF      recent delivery attempts, newest first
  webhooks retry --org ORG_ID --ref REF DELIVERY_ID   redeliver the event of a failed attempt`,
  options: { org: { type: 'string', multiple: true }, ref: { type: 'string' } },
  async run(context) {
    const sub = context.args[0];
    const organizationId = context.strings('org')?.[0];
    if (organizationId === undefined) throw new UsageError(`webhooks ${sub ?? ''} needs --org ORG_ID`);
    const ref = context.string('ref');
    if (sub !== 'list' && sub !== 'deliveries' && sub !== 'retry')
      throw new UsageError(
        `unknown webhooks command "${sub ?? ''}"; use webhooks list, webhooks deliveries or webhooks retry`,
      );
    if (sub !== 'list' && ref === undefined) throw new UsageError(`webhooks ${sub} needs --ref REF`);
    return context.withServices((services) =>
      sub === 'list'
        ? list(services, context, organizationId)
        : sub === 'deliveries'
          ? deliveries(services, context, organizationId, ref!)
          : retry(services, context, organizationId, ref!),
    );
  },
};
