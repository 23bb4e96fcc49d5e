import { useState } from 'preact/hooks';
import { EVENT_TYPES } from '../../../src/contract/event-types.js';
import { useConsole } from '../context.js';
import type { Webhook, WebhookDelivery } from '../lib/api.js';
import { formatDateTime } from '../lib/format.js';
import { useAsync } from '../lib/use-async.js';
import { Empty, ErrorPanel, Loading } from '../components/status.js';

const EVENTS = EVENT_TYPES;

interface Draft {
  ref: string;
  url: string;
  secret: string;
  events: string[];
  editing: boolean;
}

const emptyDraft = (): Draft => ({
  ref: '',
  url: 'https://',
  secret: '',
  events: ['customer.created'],
  editing: false,
});

export function Webhooks() {
  const { api, organization, canManageWebhooks, session } = useConsole();
  const hooks = useAsync<Webhook[]>(() => api.webhooks.list(organization.id).toArray(), [organization.id]);
  const [draft, setDraft] = useState<Draft | undefined>();
  const [error, setError] = useState<unknown>();
  const [open, setOpen] = useState<string | undefined>();

  const save = async (event: Event) => {
    event.preventDefault();
    if (!draft) return;
    setError(undefined);
    try {
      await api.webhooks.put(organization.id, draft.ref.trim(), {
        url: draft.url.trim(),
        secret: draft.secret,
        events: draft.events,
      });
      setDraft(undefined);
      hooks.reload();
    } catch (caught) {
      setError(caught);
    }
  };

  const remove = async (ref: string) => {
    setError(undefined);
    try {
      await api.webhooks.delete(organization.id, ref);
      hooks.reload();
    } catch (caught) {
      setError(caught);
    }
  };

  if (session.scopes !== undefined && !canManageWebhooks)
    return (
      <main id="main">
        <h1>Webhooks</h1>
        <div class="notice" role="note">
          <p>
            This token lacks the <code>webhooks:manage</code> scope, so it can neither see nor change webhook
            subscriptions. Sign in with a token that has it (
            <code>customers-api token create --scopes customers:read,webhooks:manage</code>).
          </p>
        </div>
      </main>
    );

  return (
    <main id="main">
      <div class="screen-head">
        <h1>Webhooks</h1>
        {!draft && (
          <button type="button" class="primary" onClick={() => setDraft(emptyDraft())}>
            New subscription
          </button>
        )}
      </div>
      {draft && (
        <form class="panel form-grid" onSubmit={(event) => void save(event)} aria-label="Webhook subscription">
          <label>
            Reference
            <input
              required
              maxLength={128}
              pattern="[A-Za-z0-9._~:\-]+"
              readOnly={draft.editing}
              value={draft.ref}
              onInput={(e) => setDraft({ ...draft, ref: (e.target as HTMLInputElement).value })}
              aria-describedby="ref-help"
            />
            <span id="ref-help" class="help">
              Your name for it: letters, digits and . _ ~ : -
            </span>
          </label>
          <label>
            URL
            <input
              required
              type="url"
              value={draft.url}
              onInput={(e) => setDraft({ ...draft, url: (e.target as HTMLInputElement).value })}
            />
          </label>
          <label>
            Signing secret
            <input
              required
              type="password"
              autocomplete="new-password"
              value={draft.secret}
              onInput={(e) => setDraft({ ...draft, secret: (e.target as HTMLInputElement).value })}
              aria-describedby="secret-help"
            />
            <span id="secret-help" class="help">
              Key of the HMAC-SHA256 in X-Event-Signature; never shown again{draft.editing ? ' (enter it again)' : ''}.
            </span>
          </label>
          <fieldset class="events-picker">
            <legend>Events</legend>
            {EVENTS.map((name) => (
              <label key={name} class="inline">
                <input
                  type="checkbox"
                  checked={draft.events.includes(name)}
                  onChange={(e) =>
                    setDraft({
                      ...draft,
                      events: (e.target as HTMLInputElement).checked
                        ? [...draft.events, name]
                        : draft.events.filter((n) => n !== name),
                    })
                  }
                />
                <code>{name}</code>
              </label>
            ))}
          </fieldset>
          <div class="form-actions">
            <button type="submit" class="primary" disabled={draft.events.length === 0}>
              Save subscription
            </button>
            <button type="button" class="secondary" onClick={() => setDraft(undefined)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {error !== undefined && <ErrorPanel error={error} />}
      {hooks.status === 'error' ? (
        <ErrorPanel error={hooks.error} onRetry={hooks.reload} />
      ) : hooks.data === undefined ? (
        <Loading label="Loading webhooks…" />
      ) : hooks.data.length === 0 ? (
        <Empty>
          <p>No webhook subscriptions. Create one to have changes POSTed to your URL.</p>
        </Empty>
      ) : (
        hooks.data.map((hook) => (
          <section key={hook.ref} class="panel" aria-label={`Webhook ${hook.ref}`}>
            <div class="screen-head">
              <h2>
                <code>{hook.ref}</code>
              </h2>
              <div class="form-actions">
                <button
                  type="button"
                  aria-expanded={open === hook.ref}
                  onClick={() => setOpen(open === hook.ref ? undefined : hook.ref)}
                >
                  {open === hook.ref ? 'Hide deliveries' : 'Deliveries'}
                </button>
                <button
                  type="button"
                  class="secondary"
                  onClick={() =>
                    setDraft({ ref: hook.ref, url: hook.url, secret: '', events: hook.events, editing: true })
                  }
                >
                  Edit
                </button>
                <button type="button" class="danger" onClick={() => void remove(hook.ref)}>
                  Delete
                </button>
              </div>
            </div>
            <p>
              <code>{hook.url}</code>
            </p>
            <p class="help">{hook.events.join(', ')}</p>
            {open === hook.ref && <Deliveries webhookRef={hook.ref} />}
          </section>
        ))
      )}
    </main>
  );
}

function Deliveries({ webhookRef }: { webhookRef: string }) {
  const { api, organization } = useConsole();
  const deliveries = useAsync<WebhookDelivery[]>(
    async () => (await api.webhooks.deliveries(organization.id, webhookRef).page()).items,
    [organization.id, webhookRef],
  );
  const [notice, setNotice] = useState<string>();
  const [error, setError] = useState<unknown>();

  const redeliver = async (delivery: WebhookDelivery) => {
    setError(undefined);
    try {
      await api.webhooks.redeliver(organization.id, webhookRef, delivery.id);
      setNotice(`Event ${delivery.eventSequence} queued for redelivery.`);
      setTimeout(deliveries.reload, 1000);
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <div>
      <div class="form-actions">
        <h3>Recent deliveries</h3>
        <button type="button" class="secondary" onClick={deliveries.reload}>
          Refresh
        </button>
      </div>
      {notice && (
        <p class="success" role="status">
          {notice}
        </p>
      )}
      {error !== undefined && <ErrorPanel error={error} />}
      {deliveries.status === 'error' ? (
        <ErrorPanel error={deliveries.error} onRetry={deliveries.reload} />
      ) : deliveries.data === undefined ? (
        <Loading />
      ) : deliveries.data.length === 0 ? (
        <Empty>
          <p>Nothing delivered yet.</p>
        </Empty>
      ) : (
        <table class="data-table" aria-label={`Deliveries of ${webhookRef}`}>
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">Event</th>
              <th scope="col">Status</th>
              <th scope="col" class="number">
                Attempt
              </th>
              <th scope="col" class="number">
                Response
              </th>
              <th scope="col">Action</th>
            </tr>
          </thead>
          <tbody>
            {deliveries.data.map((delivery) => (
              <tr key={delivery.id}>
                <td>{formatDateTime(delivery.attemptedAt, organization.timezone)}</td>
                <td>
                  <code>{delivery.event}</code> #{delivery.eventSequence}
                  {delivery.replay && ' (redelivery)'}
                </td>
                <td class={`delivery-${delivery.status}`}>
                  {delivery.status}
                  {delivery.error && <span class="help"> {delivery.error}</span>}
                </td>
                <td class="number">{delivery.attempt}</td>
                <td class="number">{delivery.responseStatus ?? '—'}</td>
                <td>
                  {delivery.status !== 'retrying' && (
                    <button type="button" class="secondary" onClick={() => void redeliver(delivery)}>
                      Redeliver
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
