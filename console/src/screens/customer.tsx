import { useMemo, useState } from 'preact/hooks';
import { Link, useLocation } from 'wouter-preact';
import type { Customer, CustomerList, FeedEvent, Payment, UpdateCustomerBody } from '../../../src/client/index.js';
import { useConsole } from '../context.js';
import type { PointsEntry } from '../lib/api.js';
import { isApiError } from '../lib/errors.js';
import {
  displayValue as shown,
  formatDate,
  formatDateTime,
  formatMoney,
  formatNumber,
  fullName,
  manualReference,
} from '../lib/format.js';
import { usePagedList } from '../lib/paged-loader.js';
import { timelineEntries } from '../lib/timeline.js';
import { useAsync } from '../lib/use-async.js';
import { Empty, ErrorPanel, Loading } from '../components/status.js';

interface Loaded {
  customer: Customer;
  etag: string | undefined;
}

export function CustomerPage({ id }: { id: string }) {
  const { api, organization } = useConsole();
  const loaded = useAsync<Loaded>(
    (signal) => api.client.customers.getWithETag(organization.id, id, { signal }),
    [organization.id, id],
  );
  // Statistics, points, payments and the timeline change together: one counter makes the sections that show them
  // read again (an edit, a points adjustment, a list membership).
  const [version, setVersion] = useState(0);
  const changed = () => {
    setVersion((n) => n + 1);
    loaded.reload();
  };

  if (loaded.status === 'error' && loaded.data === undefined)
    return (
      <main id="main">
        <p>
          <Link href="/customers">← Customers</Link>
        </p>
        <h1>Customer</h1>
        <ErrorPanel error={loaded.error} onRetry={loaded.reload} />
      </main>
    );
  if (loaded.data === undefined)
    return (
      <main id="main">
        <Loading label="Loading customer…" />
      </main>
    );
  const { customer, etag } = loaded.data;
  return (
    <main id="main" class="customer">
      <p>
        <Link href="/customers">← Customers</Link>
      </p>
      <div class="screen-head">
        <h1>{fullName(customer)}</h1>
      </div>
      <div class="grid">
        <Profile customer={customer} etag={etag} onSaved={(next) => loaded.set(next)} onReload={loaded.reload} />
        <Statistics customer={customer} />
      </div>
      <Points customerId={id} version={version} onChanged={changed} />
      <div class="grid">
        <Memberships customerId={id} onChanged={changed} />
        <Metadata customer={customer} etag={etag} onSaved={(next) => loaded.set(next)} />
      </div>
      <Payments customerId={id} version={version} />
      <Timeline customer={customer} version={version} />
      <Erase customer={customer} />
    </main>
  );
}

type EditableField = 'firstName' | 'lastName' | 'email' | 'phoneNumber' | 'dob' | 'gender' | 'hasAgreedToMarketing';
const FIELDS: { key: EditableField; label: string; type?: string }[] = [
  { key: 'firstName', label: 'First name' },
  { key: 'lastName', label: 'Last name' },
  { key: 'email', label: 'Email', type: 'email' },
  { key: 'phoneNumber', label: 'Phone number', type: 'tel' },
  { key: 'dob', label: 'Date of birth', type: 'date' },
  { key: 'gender', label: 'Gender' },
  { key: 'hasAgreedToMarketing', label: 'Agreed to marketing' },
];

type Draft = Partial<Record<EditableField, string | boolean>>;

/** The PATCH body of what the form changed; an emptied optional field is removed (null). */
function patchOf(customer: Customer, draft: Draft): UpdateCustomerBody {
  const patch: Record<string, unknown> = {};
  for (const { key } of FIELDS) {
    if (!(key in draft)) continue;
    const value = draft[key];
    if (value === (customer[key] ?? (key === 'hasAgreedToMarketing' ? false : ''))) continue;
    patch[key] = value === '' ? null : value;
  }
  return patch as UpdateCustomerBody;
}

function Profile({
  customer,
  etag,
  onSaved,
  onReload,
}: {
  customer: Customer;
  etag: string | undefined;
  onSaved: (loaded: Loaded) => void;
  onReload: () => void;
}) {
  const { api, organization, canWrite } = useConsole();
  const [draft, setDraft] = useState<Draft | undefined>();
  const [error, setError] = useState<unknown>();
  const [conflict, setConflict] = useState<{ stored: Loaded; patch: UpdateCustomerBody } | undefined>();
  const [busy, setBusy] = useState(false);
  const [saved, setSaved] = useState(false);

  const save = async (patch: UpdateCustomerBody, ifMatch: string | undefined) => {
    setBusy(true);
    setError(undefined);
    setSaved(false);
    try {
      await api.client.customers.update(organization.id, customer.id, patch, { ifMatch });
      // The PATCH answer carries no ETag through the SDK; read the new version (and its ETag) back.
      onSaved(await api.client.customers.getWithETag(organization.id, customer.id));
      setDraft(undefined);
      setConflict(undefined);
      setSaved(true);
    } catch (caught) {
      if (isApiError(caught, 'precondition_failed')) {
        setConflict({ stored: await api.client.customers.getWithETag(organization.id, customer.id), patch });
      } else setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const submit = (event: Event) => {
    event.preventDefault();
    if (!draft) return;
    const patch = patchOf(customer, draft);
    if (Object.keys(patch).length === 0) return setDraft(undefined);
    void save(patch, etag);
  };

  const value = (key: EditableField) => (draft && key in draft ? draft[key] : customer[key]);
  const set = (key: EditableField, next: string | boolean) => setDraft({ ...draft, [key]: next });

  return (
    <section class="panel" aria-labelledby="profile-title">
      <div class="screen-head">
        <h2 id="profile-title">Profile</h2>
        {canWrite && !draft && (
          <button type="button" onClick={() => (setDraft({}), setSaved(false))}>
            Edit profile
          </button>
        )}
      </div>
      {saved && (
        <p class="success" role="status">
          Saved.
        </p>
      )}
      {conflict && (
        <div class="notice" role="alert">
          <p>
            <strong>Someone else changed this customer</strong> since you opened it, so your change was not saved (412
            Precondition Failed).
          </p>
          <table class="diff">
            <caption class="visually-hidden">Your change and what is stored now</caption>
            <thead>
              <tr>
                <th scope="col">Field</th>
                <th scope="col">You loaded</th>
                <th scope="col">Stored now</th>
                <th scope="col">Your change</th>
              </tr>
            </thead>
            <tbody>
              {FIELDS.filter(({ key }) => key in conflict.patch || conflict.stored.customer[key] !== customer[key]).map(
                ({ key, label }) => (
                  <tr key={key}>
                    <th scope="row">{label}</th>
                    <td>{shown(customer[key])}</td>
                    <td>{shown(conflict.stored.customer[key])}</td>
                    <td>
                      {key in conflict.patch ? shown((conflict.patch as Record<string, unknown>)[key]) : '(unchanged)'}
                    </td>
                  </tr>
                ),
              )}
            </tbody>
          </table>
          <div class="form-actions">
            <button
              type="button"
              class="primary"
              onClick={() => {
                onSaved(conflict.stored);
                setConflict(undefined);
                setDraft(undefined);
              }}
            >
              Reload and discard my change
            </button>
            <button type="button" disabled={busy} onClick={() => void save(conflict.patch, conflict.stored.etag)}>
              Apply my change to the stored version
            </button>
          </div>
        </div>
      )}
      {draft ? (
        <form class="form-grid" onSubmit={submit} aria-label="Edit profile">
          {FIELDS.map(({ key, label, type }) =>
            key === 'hasAgreedToMarketing' ? (
              <label key={key} class="inline">
                <input
                  type="checkbox"
                  checked={Boolean(value(key))}
                  onChange={(event) => set(key, (event.target as HTMLInputElement).checked)}
                />
                {label}
              </label>
            ) : key === 'gender' ? (
              <label key={key}>
                {label}
                <select
                  value={String(value(key) ?? '')}
                  onChange={(event) => set(key, (event.target as HTMLSelectElement).value)}
                >
                  <option value="">Not given</option>
                  <option value="FEMALE">Female</option>
                  <option value="MALE">Male</option>
                  <option value="OTHER">Other</option>
                </select>
              </label>
            ) : (
              <label key={key}>
                {label}
                <input
                  type={type ?? 'text'}
                  name={key}
                  required={key === 'firstName' || key === 'lastName'}
                  value={String(value(key) ?? '')}
                  onInput={(event) => set(key, (event.target as HTMLInputElement).value)}
                />
              </label>
            ),
          )}
          <div class="form-actions">
            <button type="submit" class="primary" disabled={busy}>
              {busy ? 'Saving…' : 'Save'}
            </button>
            <button type="button" class="secondary" onClick={() => (setDraft(undefined), setError(undefined))}>
              Cancel
            </button>
          </div>
        </form>
      ) : (
        <dl class="stats">
          {FIELDS.map(({ key, label }) => (
            <div key={key}>
              <dt>{label}</dt>
              <dd>{key === 'dob' ? formatDate(customer.dob, 'UTC') : shown(customer[key])}</dd>
            </div>
          ))}
          <div>
            <dt>Created</dt>
            <dd>{formatDateTime(customer.createdAt, organization.timezone)}</dd>
          </div>
          <div>
            <dt>Updated</dt>
            <dd>{formatDateTime(customer.updatedAt, organization.timezone)}</dd>
          </div>
        </dl>
      )}
      {error !== undefined && <ErrorPanel error={error} onRetry={onReload} />}
    </section>
  );
}

function Statistics({ customer }: { customer: Customer }) {
  const { organization } = useConsole();
  const s = customer.statistics ?? {};
  const tz = organization.timezone;
  return (
    <section class="panel" aria-labelledby="statistics-title">
      <h2 id="statistics-title">Statistics</h2>
      <dl class="stats" data-testid="statistics">
        <div>
          <dt>Points balance</dt>
          <dd data-testid="points-balance">{formatNumber(s.pointsBalance ?? 0)}</dd>
        </div>
        <div>
          <dt>Points earned</dt>
          <dd>{formatNumber(s.totalPointsEarned ?? 0)}</dd>
        </div>
        <div>
          <dt>Points redeemed</dt>
          <dd>{formatNumber(s.totalPointsRedeemed ?? 0)}</dd>
        </div>
        <div>
          <dt>Total spend</dt>
          <dd>{formatMoney(s.totalSpend ?? 0, organization.currency)}</dd>
        </div>
        <div>
          <dt>Last earned</dt>
          <dd>{formatDateTime(s.lastPointsEarnedAt, tz)}</dd>
        </div>
        <div>
          <dt>Last redeemed</dt>
          <dd>{formatDateTime(s.lastPointsRedeemedAt, tz)}</dd>
        </div>
        <div>
          <dt>Last spent</dt>
          <dd>{formatDateTime(s.lastSpentAt, tz)}</dd>
        </div>
      </dl>
    </section>
  );
}

function Points({ customerId, version, onChanged }: { customerId: string; version: number; onChanged: () => void }) {
  const { api, organization, canWrite } = useConsole();
  const history = useAsync(
    (signal) => api.pointsHistory(organization.id, customerId, 50).page(undefined, { signal }),
    [organization.id, customerId, version],
  );
  const [amount, setAmount] = useState('');
  const [notes, setNotes] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const adjust = async (event: Event) => {
    event.preventDefault();
    const points = Number(amount);
    if (!Number.isInteger(points) || points === 0) return setError(new Error('Enter a whole number of points, not 0.'));
    setBusy(true);
    setError(undefined);
    try {
      await api.client.points.adjust(organization.id, customerId, manualReference(), {
        amount: points,
        ...(notes.trim() ? { notes: notes.trim() } : {}),
      });
      setAmount('');
      setNotes('');
      onChanged();
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const reverse = async (entry: PointsEntry) => {
    setError(undefined);
    try {
      await api.client.points.reverse(organization.id, customerId, entry.reference);
      onChanged();
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <section class="panel" aria-labelledby="points-title">
      <h2 id="points-title">Points</h2>
      {canWrite && (
        <form class="form-actions" onSubmit={(event) => void adjust(event)} aria-label="Adjust points">
          <label>
            Points to add (negative redeems)
            <input
              type="number"
              step="1"
              required
              value={amount}
              onInput={(e) => setAmount((e.target as HTMLInputElement).value)}
            />
          </label>
          <label>
            Notes
            <input maxLength={1000} value={notes} onInput={(e) => setNotes((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit" class="primary" disabled={busy}>
            Adjust points
          </button>
        </form>
      )}
      {error !== undefined && <ErrorPanel error={error} />}
      {history.status === 'error' ? (
        <ErrorPanel error={history.error} onRetry={history.reload} />
      ) : history.data === undefined ? (
        <Loading label="Loading points history…" />
      ) : history.data.items.length === 0 ? (
        <Empty>
          <p>No points adjustments yet.</p>
        </Empty>
      ) : (
        <table class="data-table" aria-label="Points history">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col" class="number">
                Points
              </th>
              <th scope="col">Reference</th>
              <th scope="col" class="wide-only">
                Notes
              </th>
              {canWrite && <th scope="col">Action</th>}
            </tr>
          </thead>
          <tbody>
            {history.data.items.map((entry) => (
              <tr key={entry.reference}>
                <td>{formatDateTime(entry.occurredAt, organization.timezone)}</td>
                <td class="number">{formatNumber(entry.amount)}</td>
                <td>
                  <code>{entry.reference}</code>
                </td>
                <td class="wide-only">{entry.notes ?? ''}</td>
                {canWrite && (
                  <td>
                    <button
                      type="button"
                      class="secondary"
                      onClick={() => void reverse(entry)}
                      aria-label={`Reverse ${entry.reference}`}
                    >
                      Reverse
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {history.data?.next && <p class="help">Showing the latest 50 adjustments.</p>}
    </section>
  );
}

function Memberships({ customerId, onChanged }: { customerId: string; onChanged: () => void }) {
  const { api, organization, canWrite } = useConsole();
  const memberships = useAsync(
    (signal) => api.client.customers.memberships(organization.id, customerId, { signal }).toArray(),
    [organization.id, customerId],
  );
  const lists = useAsync<CustomerList[]>(
    (signal) => api.client.customerLists.list(organization.id, { signal }).toArray(),
    [organization.id],
  );
  const [choice, setChoice] = useState('');
  const [error, setError] = useState<unknown>();
  const member = new Set((memberships.data ?? []).map((list) => list.id));
  // Segments keep their own members: only manual lists take members by hand.
  const addable = (lists.data ?? []).filter((list) => !member.has(list.id) && !(list as { filter?: unknown }).filter);

  const change = async (listId: string, add: boolean) => {
    setError(undefined);
    try {
      if (add) await api.client.customerLists.addMember(organization.id, listId, customerId);
      else await api.client.customerLists.removeMember(organization.id, listId, customerId);
      setChoice('');
      memberships.reload();
      onChanged();
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <section class="panel" aria-labelledby="memberships-title">
      <h2 id="memberships-title">Lists</h2>
      {memberships.status === 'error' ? (
        <ErrorPanel error={memberships.error} onRetry={memberships.reload} />
      ) : memberships.data === undefined ? (
        <Loading />
      ) : memberships.data.length === 0 ? (
        <p class="help">Not in any list.</p>
      ) : (
        <ul class="member-lists">
          {memberships.data.map((list) => (
            <li key={list.id}>
              <Link href={`/lists/${list.id}`}>{list.name}</Link>{' '}
              {canWrite && (
                <button
                  type="button"
                  class="link"
                  onClick={() => void change(list.id!, false)}
                  aria-label={`Remove from ${list.name}`}
                >
                  Remove
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {canWrite && addable.length > 0 && (
        <form
          class="form-actions"
          onSubmit={(event) => {
            event.preventDefault();
            if (choice) void change(choice, true);
          }}
        >
          <label>
            Add to list
            <select value={choice} onChange={(e) => setChoice((e.target as HTMLSelectElement).value)}>
              <option value="">Choose a list…</option>
              {addable.map((list) => (
                <option key={list.id} value={list.id}>
                  {list.name}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" disabled={!choice}>
            Add
          </button>
        </form>
      )}
      {error !== undefined && <ErrorPanel error={error} />}
    </section>
  );
}

function Metadata({
  customer,
  etag,
  onSaved,
}: {
  customer: Customer;
  etag: string | undefined;
  onSaved: (loaded: Loaded) => void;
}) {
  const { api, organization, canWrite } = useConsole();
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [error, setError] = useState<unknown>();
  const entries = Object.entries(customer.metadata ?? {});

  const patch = async (metadata: Record<string, string | null>) => {
    setError(undefined);
    try {
      await api.client.customers.update(organization.id, customer.id, { metadata } as UpdateCustomerBody, {
        ifMatch: etag,
      });
      onSaved(await api.client.customers.getWithETag(organization.id, customer.id));
      setKey('');
      setValue('');
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <section class="panel" aria-labelledby="metadata-title">
      <h2 id="metadata-title">Metadata</h2>
      {entries.length === 0 ? (
        <p class="help">No metadata.</p>
      ) : (
        <table class="data-table" aria-label="Metadata">
          <thead>
            <tr>
              <th scope="col">Key</th>
              <th scope="col">Value</th>
              {canWrite && <th scope="col">Action</th>}
            </tr>
          </thead>
          <tbody>
            {entries.map(([k, v]) => (
              <tr key={k}>
                <td>
                  <code>{k}</code>
                </td>
                <td>{v}</td>
                {canWrite && (
                  <td>
                    <button
                      type="button"
                      class="link"
                      onClick={() => void patch({ [k]: null })}
                      aria-label={`Remove ${k}`}
                    >
                      Remove
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canWrite && (
        <form
          class="form-actions"
          onSubmit={(event) => {
            event.preventDefault();
            if (key.trim()) void patch({ [key.trim()]: value });
          }}
        >
          <label>
            Key
            <input maxLength={40} value={key} onInput={(e) => setKey((e.target as HTMLInputElement).value)} />
          </label>
          <label>
            Value
            <input maxLength={500} value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit">Set</button>
        </form>
      )}
      {error !== undefined && <ErrorPanel error={error} />}
    </section>
  );
}

function Payments({ customerId, version }: { customerId: string; version: number }) {
  const { api, organization } = useConsole();
  const payments = useAsync<Payment[]>(
    async (signal) => (await api.client.payments.list(organization.id, { customerId, limit: 20, signal }).page()).items,
    [organization.id, customerId, version],
  );
  return (
    <section class="panel" aria-labelledby="payments-title">
      <h2 id="payments-title">Payments</h2>
      {payments.status === 'error' ? (
        <ErrorPanel error={payments.error} onRetry={payments.reload} />
      ) : payments.data === undefined ? (
        <Loading />
      ) : payments.data.length === 0 ? (
        <Empty>
          <p>No payments.</p>
        </Empty>
      ) : (
        <table class="data-table" aria-label="Payments">
          <thead>
            <tr>
              <th scope="col">Completed</th>
              <th scope="col" class="number">
                Charged
              </th>
              <th scope="col" class="wide-only">
                Type
              </th>
              <th scope="col">Refunded</th>
            </tr>
          </thead>
          <tbody>
            {payments.data.map((payment) => (
              <tr key={payment.id}>
                <td>{formatDateTime(payment.completedAt, organization.timezone)}</td>
                <td class="number">{formatMoney(payment.chargedAmount, payment.currency ?? organization.currency)}</td>
                <td class="wide-only">{payment.billingType}</td>
                <td>{payment.refundedAt ? formatDateTime(payment.refundedAt, organization.timezone) : '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

const TIMELINE_PAGE = 20;

/**
 * The customer's events from the feed, newest first, as a timeline (lib/timeline.ts makes the lines); older ones a
 * page at a time through the cursor. Starts over when the page changes the customer (`version`, `updatedAt`).
 */
function Timeline({ customer, version }: { customer: Customer; version: number }) {
  const { api, organization } = useConsole();
  const feed = usePagedList<FeedEvent>(
    `${organization.id}/${customer.id}/${version}/${customer.updatedAt}`,
    (after, signal) =>
      api.client.events
        .list(organization.id, { customerId: customer.id, order: 'newest', limit: TIMELINE_PAGE })
        .page(after, { signal }),
  );
  const complete = feed.pages > 0 && feed.next === undefined;
  const entries = useMemo(
    () => timelineEntries(feed.items, { complete, currency: organization.currency }),
    [feed.items, complete, organization.currency],
  );
  return (
    <section class="panel" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Timeline</h2>
      {feed.pages === 0 ? (
        feed.status === 'error' ? (
          <ErrorPanel error={feed.error} onRetry={feed.loadMore} />
        ) : (
          <Loading label="Loading timeline…" />
        )
      ) : entries.length === 0 && complete ? (
        <Empty>
          <p>No events for this customer yet.</p>
        </Empty>
      ) : (
        <>
          <ol class="timeline" aria-label="Timeline">
            {entries.map((entry) => (
              <li key={entry.id} class={`timeline-${entry.kind}`}>
                <time dateTime={entry.at}>{formatDateTime(entry.at, organization.timezone)}</time>
                <span class="timeline-title">{entry.title}</span>
                {entry.changes && (
                  <ul class="timeline-changes">
                    {entry.changes.map((change) => (
                      <li key={change.field}>
                        {change.label}: <span class="from">{change.from}</span> → <span class="to">{change.to}</span>
                      </li>
                    ))}
                  </ul>
                )}
                {entry.detail && <span class="help timeline-detail">{entry.detail}</span>}
              </li>
            ))}
          </ol>
          {feed.status === 'error' ? (
            <ErrorPanel error={feed.error} onRetry={feed.loadMore} />
          ) : feed.status === 'loading' ? (
            <Loading label="Loading older events…" />
          ) : (
            feed.next !== undefined && (
              <button type="button" class="secondary" onClick={feed.loadMore}>
                Show more
              </button>
            )
          )}
        </>
      )}
    </section>
  );
}

function Erase({ customer }: { customer: Customer }) {
  const { api, organization, canWrite } = useConsole();
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<unknown>();
  const [, navigate] = useLocation();
  if (!canWrite) return null;
  const name = fullName(customer);
  const erase = async (event: Event) => {
    event.preventDefault();
    try {
      await api.client.customers.delete(organization.id, customer.id);
      navigate('/customers');
    } catch (caught) {
      setError(caught);
    }
  };
  return (
    <section class="panel danger-zone" aria-labelledby="erase-title">
      <h2 id="erase-title">Erase customer</h2>
      <p>
        Erasing deletes their personal data, points ledger and list memberships for good; payments stay, detached. It
        cannot be undone.
      </p>
      <form class="form-actions" onSubmit={(event) => void erase(event)}>
        <label>
          Type the customer's name ({name}) to confirm
          <input value={typed} onInput={(e) => setTyped((e.target as HTMLInputElement).value)} autocomplete="off" />
        </label>
        <button type="submit" class="danger primary" disabled={typed.trim() !== name}>
          Erase {name}
        </button>
      </form>
      {error !== undefined && <ErrorPanel error={error} />}
    </section>
  );
}
