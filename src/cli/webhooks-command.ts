import type { Services } from '../services.js';

export interface WebhooksCommandOptions {
  organizationId: string | undefined;
  ref: string | undefined;
  print(human: string, data: unknown): void;
}

export class WebhooksUsageError extends Error {}

/**
 * `webhooks list|deliveries|retry`: the operator's view of subscriptions,
 * through the same service as the HTTP API (no token needed: the CLI has the
 * database).
 */
export async function runWebhooksCommand(
  services: Services,
  sub: string | undefined,
  args: string[],
  options: WebhooksCommandOptions,
): Promise<number> {
  const organizationId = options.organizationId;
  if (organizationId === undefined) throw new WebhooksUsageError(`webhooks ${sub ?? ''} needs --org ORG_ID`);
  if (sub === 'list') {
    const page = await services.webhooks.listWebhooks(organizationId, {});
    options.print(
      page.items.map((w) => `${w.ref}  ${w.url}  ${w.events.join(',')}`).join('\n') || 'No webhooks',
      page.items,
    );
    return 0;
  }
  const ref = options.ref;
  if (ref === undefined) throw new WebhooksUsageError(`webhooks ${sub ?? ''} needs --ref REF`);
  if (sub === 'deliveries') {
    const page = await services.webhooks.listDeliveries(organizationId, ref, {});
    options.print(
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
  if (sub === 'retry') {
    const deliveryId = args[0];
    if (deliveryId === undefined)
      throw new WebhooksUsageError('webhooks retry needs a DELIVERY_ID (see webhooks deliveries)');
    const replay = await services.webhooks.retryDelivery(organizationId, ref, deliveryId);
    options.print(
      `Queued redelivery ${replay.id} of event #${replay.eventSequence} (${replay.event}); a running server delivers it`,
      replay,
    );
    return 0;
  }
  throw new WebhooksUsageError(
    `unknown webhooks command "${sub ?? ''}"; use webhooks list, webhooks deliveries or webhooks retry`,
  );
}
