import { useEffect, useState } from 'preact/hooks';
import { Link, useLocation } from 'wouter-preact';
import type { CustomerList, CustomerListMember } from '../../../src/client/index.js';
import { useConsole } from '../context.js';
import { formatDateTime, formatNumber, fullName } from '../lib/format.js';
import { usePagedList } from '../lib/paged-loader.js';
import { useAsync } from '../lib/use-async.js';
import { VirtualTable } from '../components/virtual-table.js';
import { Empty, ErrorPanel, Loading } from '../components/status.js';

/** Segments (issue 15) are lists with a filter and a build status; on a server without them every list is manual. */
type AnyList = CustomerList & { filter?: Record<string, unknown>; status?: 'building' | 'ready' };

const kindOf = (list: AnyList) => (list.filter ? 'Segment' : 'Manual');

export function Lists() {
  const { api, organization, canWrite } = useConsole();
  const lists = useAsync<AnyList[]>(
    (signal) => api.client.customerLists.list(organization.id, { signal }).toArray(),
    [organization.id],
  );
  const [name, setName] = useState('');
  const [error, setError] = useState<unknown>();
  const [, navigate] = useLocation();

  // A segment being built fills in the background: look again until every one is ready.
  const building = (lists.data ?? []).some((list) => list.status === 'building');
  useEffect(() => {
    if (!building) return;
    const timer = setTimeout(lists.reload, 1500);
    return () => clearTimeout(timer);
  }, [building, lists.data]);

  const create = async (event: Event) => {
    event.preventDefault();
    setError(undefined);
    try {
      const list = await api.client.customerLists.create(organization.id, { name: name.trim() });
      navigate(`/lists/${list.id}`);
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <main id="main">
      <h1>Lists &amp; segments</h1>
      {canWrite && (
        <form class="form-actions panel" onSubmit={(event) => void create(event)} aria-label="Create a manual list">
          <label>
            New manual list
            <input
              required
              maxLength={200}
              value={name}
              onInput={(e) => setName((e.target as HTMLInputElement).value)}
            />
          </label>
          <button type="submit" class="primary">
            Create list
          </button>
          <p class="help">
            To make a segment, filter the <Link href="/customers">customers</Link> and choose “Save as list…”.
          </p>
        </form>
      )}
      {error !== undefined && <ErrorPanel error={error} />}
      {lists.status === 'error' ? (
        <ErrorPanel error={lists.error} onRetry={lists.reload} />
      ) : lists.data === undefined ? (
        <Loading label="Loading lists…" />
      ) : lists.data.length === 0 ? (
        <Empty>
          <p>No lists yet.</p>
        </Empty>
      ) : (
        <div class="panel">
          <table class="data-table" aria-label="Customer lists">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col" class="number">
                  Members
                </th>
                <th scope="col" class="wide-only">
                  Created
                </th>
              </tr>
            </thead>
            <tbody>
              {lists.data.map((list) => (
                <tr key={list.id}>
                  <td>
                    <Link href={`/lists/${list.id}`}>{list.name}</Link>
                  </td>
                  <td>
                    {kindOf(list)}
                    {list.status === 'building' && ' (building…)'}
                  </td>
                  <td class="number">{formatNumber(list.memberCount)}</td>
                  <td class="wide-only">{formatDateTime(list.createdAt, organization.timezone)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </main>
  );
}

export function ListPage({ id }: { id: string }) {
  const { api, organization, canWrite } = useConsole();
  const list = useAsync<AnyList>(
    (signal) => api.client.customerLists.get(organization.id, id, { signal }),
    [organization.id, id],
  );
  const members = usePagedList<CustomerListMember>(`${organization.id}/${id}`, (after, signal) =>
    api.client.customerLists.members(organization.id, id, { limit: 100, signal }).page(after),
  );
  const [error, setError] = useState<unknown>();
  const [confirming, setConfirming] = useState(false);
  const [, navigate] = useLocation();

  useEffect(() => {
    if (list.data?.status !== 'building') return;
    const timer = setTimeout(list.reload, 1500);
    return () => clearTimeout(timer);
  }, [list.data]);

  if (list.status === 'error' && list.data === undefined)
    return (
      <main id="main">
        <p>
          <Link href="/lists">← Lists</Link>
        </p>
        <h1>List</h1>
        <ErrorPanel error={list.error} onRetry={list.reload} />
      </main>
    );
  if (list.data === undefined)
    return (
      <main id="main">
        <Loading label="Loading list…" />
      </main>
    );
  const current = list.data;

  const remove = async () => {
    try {
      await api.client.customerLists.delete(organization.id, id);
      navigate('/lists');
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <main id="main">
      <p>
        <Link href="/lists">← Lists</Link>
      </p>
      <div class="screen-head">
        <h1>{current.name}</h1>
        {canWrite &&
          (confirming ? (
            <div class="form-actions">
              <span>Delete this list and its memberships?</span>
              <button type="button" class="danger primary" onClick={() => void remove()}>
                Delete list
              </button>
              <button type="button" class="secondary" onClick={() => setConfirming(false)}>
                Keep it
              </button>
            </div>
          ) : (
            <button type="button" class="danger" onClick={() => setConfirming(true)}>
              Delete…
            </button>
          ))}
      </div>
      <dl class="stats panel">
        <div>
          <dt>Kind</dt>
          <dd>{kindOf(current)}</dd>
        </div>
        <div>
          <dt>Members</dt>
          <dd data-testid="member-count">{formatNumber(current.memberCount)}</dd>
        </div>
        {current.status && (
          <div>
            <dt>Status</dt>
            <dd>
              <span role="status">{current.status === 'building' ? 'Building…' : 'Ready'}</span>
            </dd>
          </div>
        )}
        {current.filter && (
          <div>
            <dt>Filter</dt>
            <dd>
              <Link href={`/customers?${new URLSearchParams(current.filter as Record<string, string>).toString()}`}>
                {Object.entries(current.filter)
                  .map(([k, v]) => `${k}=${String(v)}`)
                  .join(', ')}
              </Link>
            </dd>
          </div>
        )}
      </dl>
      {error !== undefined && <ErrorPanel error={error} />}
      <h2>Members</h2>
      {members.status === 'error' && members.items.length === 0 ? (
        <ErrorPanel error={members.error} onRetry={members.loadMore} />
      ) : members.pages === 0 ? (
        <Loading label="Loading members…" />
      ) : members.items.length === 0 ? (
        <Empty>
          <p>No members yet. {current.filter ? '' : 'Add customers from their page (“Lists” section).'}</p>
        </Empty>
      ) : (
        <VirtualTable
          rows={members.items}
          rowKey={(member) => member.id}
          rowHeight={44}
          caption={`Members of ${current.name}`}
          onNearEnd={members.status === 'ready' ? members.loadMore : undefined}
          columns={[
            {
              key: 'name',
              header: 'Name',
              cell: (member) => <Link href={`/customers/${member.id}`}>{fullName(member)}</Link>,
            },
            { key: 'email', header: 'Email', cell: (member) => member.email ?? '—', className: 'wide-only' },
            {
              key: 'added',
              header: 'Added',
              cell: (member) => formatDateTime(member.addedAt, organization.timezone),
            },
          ]}
        />
      )}
    </main>
  );
}
