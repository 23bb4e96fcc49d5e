import { useEffect, useMemo, useState } from 'preact/hooks';
import { Link, useLocation, useSearch } from 'wouter-preact';
import type { Customer, CustomerList, Page } from '../../../src/client/index.js';
import { useConsole } from '../context.js';
import type { Api } from '../lib/api.js';
import {
  chipsOf,
  filtersFromParams,
  filtersToParams,
  MIN_QUERY_LENGTH,
  searchOptions,
  withoutChip,
  type CustomerFilters,
} from '../lib/filters.js';
import { formatDateTime, formatMoney, formatNumber, fullName } from '../lib/format.js';
import { usePagedList } from '../lib/paged-loader.js';
import { useAsync } from '../lib/use-async.js';
import { VirtualTable, type Column } from '../components/virtual-table.js';
import { Empty, ErrorPanel, Loading } from '../components/status.js';
import { SaveAsList } from './save-as-list.js';

const PAGE_SIZE = 100;
const DEBOUNCE_MS = 250;

/** The identity of a customers source (organization, search, filters, sort), and the key of its prefetched first page. */
const sourceKey = (organizationId: string, filters: CustomerFilters) =>
  `customers:${organizationId}?${filtersToParams(filters).toString()}`;
const listsKey = (organizationId: string) => `lists:${organizationId}`;

function customersPage(
  api: Api,
  organizationId: string,
  filters: CustomerFilters,
  after: string | undefined,
  signal?: AbortSignal,
): Promise<Page<Customer>> {
  const options = searchOptions(filters);
  return options === undefined
    ? api.client.customers.list(organizationId, { sort: filters.sort, limit: PAGE_SIZE, signal }).page(after)
    : api.client.customers.search(organizationId, { ...options, limit: PAGE_SIZE, signal }).page(after);
}

const listsOf = (api: Api, organizationId: string, signal?: AbortSignal) =>
  api.client.customerLists.list(organizationId, { signal }).toArray();

/** Starts the customers screen's first requests (its first page for the URL's filters, the lists) ahead of it. */
export function prefetchCustomers(api: Api, organizationId: string, search: string): void {
  const filters = filtersFromParams(new URLSearchParams(search));
  api.prefetched.start(sourceKey(organizationId, filters), () =>
    customersPage(api, organizationId, filters, undefined),
  );
  api.prefetched.start(listsKey(organizationId), () => listsOf(api, organizationId));
}

export function Customers() {
  const { api, organization } = useConsole();
  const search = useSearch();
  const [, navigate] = useLocation();
  const filters = useMemo(() => filtersFromParams(new URLSearchParams(search)), [search]);
  const [text, setText] = useState(filters.q ?? '');

  const setFilters = (next: CustomerFilters, replace = false) => {
    const query = filtersToParams(next).toString();
    navigate(`/customers${query ? `?${query}` : ''}`, { replace });
  };

  // Results follow the typing, a quarter second after the last key; the URL (and so the request) changes once.
  useEffect(() => {
    const trimmed = text.trim();
    if (trimmed === (filters.q ?? '')) return;
    const timer = setTimeout(() => setFilters({ ...filters, q: trimmed || undefined }, true), DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [text]);

  const lists = useAsync(
    (signal) => api.prefetched.take<CustomerList[]>(listsKey(organization.id)) ?? listsOf(api, organization.id, signal),
    [organization.id],
  );
  const listName = (id: string) => lists.data?.find((list) => list.id === id)?.name;

  const options = searchOptions(filters);
  const key = sourceKey(organization.id, filters);
  const page = usePagedList<Customer>(
    key,
    (after, signal) =>
      (after === undefined ? api.prefetched.take<Page<Customer>>(key) : undefined) ??
      customersPage(api, organization.id, filters, after, signal),
  );

  const timeZone = organization.timezone;
  const sortColumn = filters.sort === 'updated' ? 'updatedAt' : 'createdAt';
  const columns: Column<Customer>[] = [
    {
      key: 'name',
      header: 'Name',
      cell: (customer) => <Link href={`/customers/${customer.id}`}>{fullName(customer)}</Link>,
    },
    { key: 'email', header: 'Email', cell: (customer) => customer.email ?? '—', className: 'wide-only' },
    { key: 'phone', header: 'Phone', cell: (customer) => customer.phoneNumber ?? '—', className: 'wide-only' },
    {
      key: 'points',
      header: 'Points',
      cell: (customer) => formatNumber(customer.statistics?.pointsBalance),
      className: 'number',
    },
    {
      key: 'spend',
      header: 'Spend',
      cell: (customer) => formatMoney(customer.statistics?.totalSpend, organization.currency),
      className: 'number wide-only',
    },
    {
      key: 'marketing',
      header: 'Marketing',
      cell: (customer) => (customer.hasAgreedToMarketing ? 'Yes' : 'No'),
      className: 'wide-only',
    },
    {
      key: 'time',
      header: filters.sort === 'updated' ? 'Updated' : 'Created',
      cell: (customer) => formatDateTime(customer[sortColumn], timeZone),
      className: 'wide-only',
    },
  ];

  const chips = chipsOf(filters, listName);
  const shortQuery = text.trim().length > 0 && text.trim().length < MIN_QUERY_LENGTH;

  return (
    <main id="main" class="customers">
      <div class="screen-head">
        <h1>Customers</h1>
        <SaveAsList
          filters={filters}
          preview={page.pages > 0 ? `${page.items.length}${page.status === 'done' ? '' : '+'}` : undefined}
        />
      </div>
      <div class="toolbar" role="search">
        <label class="search-box">
          <span class="visually-hidden">Search customers</span>
          <input
            type="search"
            placeholder="Search by name, email or phone"
            value={text}
            onInput={(event) => setText((event.target as HTMLInputElement).value)}
            aria-describedby={shortQuery ? 'search-help' : undefined}
          />
        </label>
        <label>
          Sort
          <select
            value={filters.sort ?? ''}
            onChange={(event) => {
              const value = (event.target as HTMLSelectElement).value;
              setFilters({ ...filters, sort: value === 'created' || value === 'updated' ? value : undefined });
            }}
          >
            <option value="">{filters.q ? 'Relevance' : 'Newest'}</option>
            <option value="created">Created (newest)</option>
            <option value="updated">Updated (latest)</option>
          </select>
        </label>
        <FilterPicker filters={filters} lists={lists.data ?? []} onChange={setFilters} />
      </div>
      {shortQuery && (
        <p id="search-help" class="help">
          Type at least {MIN_QUERY_LENGTH} characters to search.
        </p>
      )}
      {chips.length > 0 && (
        <ul class="chips" aria-label="Active filters">
          {chips.map((chip) => (
            <li key={chip.id} class="chip">
              {chip.label}
              <button
                type="button"
                aria-label={`Remove filter ${chip.label}`}
                onClick={() => setFilters(withoutChip(filters, chip.id))}
              >
                ×
              </button>
            </li>
          ))}
          <li>
            <button type="button" class="link" onClick={() => setFilters({ q: filters.q, sort: filters.sort })}>
              Clear filters
            </button>
          </li>
        </ul>
      )}
      <p class="result-count" aria-live="polite">
        {page.pages > 0 &&
          `${formatNumber(page.items.length)}${page.status === 'done' ? '' : '+'} customer${page.items.length === 1 ? '' : 's'}`}
      </p>
      {page.status === 'error' && page.items.length === 0 ? (
        <ErrorPanel error={page.error} onRetry={page.loadMore} />
      ) : page.pages === 0 ? (
        <Loading label="Loading customers…" />
      ) : page.items.length === 0 ? (
        <Empty>
          {options === undefined ? (
            <p>No customers yet. Import some from the Import &amp; export screen, or create them through the API.</p>
          ) : (
            <p>No customer matches. Try fewer filters or another search.</p>
          )}
        </Empty>
      ) : (
        <VirtualTable
          rows={page.items}
          columns={columns}
          rowKey={(customer) => customer.id}
          rowHeight={44}
          caption="Customers"
          onNearEnd={page.status === 'ready' ? page.loadMore : undefined}
          footer={
            page.status === 'loading' ? (
              <Loading label="Loading more…" />
            ) : page.status === 'error' ? (
              <ErrorPanel error={page.error} onRetry={page.loadMore} />
            ) : null
          }
        />
      )}
    </main>
  );
}

function FilterPicker({
  filters,
  lists,
  onChange,
}: {
  filters: CustomerFilters;
  lists: CustomerList[];
  onChange: (filters: CustomerFilters) => void;
}) {
  const [open, setOpen] = useState(false);
  const [draft, setDraft] = useState<Record<string, string>>({});
  const set = (key: string) => (event: Event) =>
    setDraft({ ...draft, [key]: (event.target as HTMLInputElement | HTMLSelectElement).value });

  const apply = (event: Event) => {
    event.preventDefault();
    const next: CustomerFilters = { ...filters };
    if (draft.marketing === 'true' || draft.marketing === 'false')
      next.hasAgreedToMarketing = draft.marketing === 'true';
    const number = (value: string | undefined, scale = 1) =>
      value === undefined || value.trim() === '' || !Number.isFinite(Number(value))
        ? undefined
        : Math.round(Number(value) * scale);
    const points = [number(draft.pointsMin), number(draft.pointsMax)] as const;
    if (points[0] !== undefined) next.pointsBalanceMin = points[0];
    if (points[1] !== undefined) next.pointsBalanceMax = points[1];
    const spend = [number(draft.spendMin, 100), number(draft.spendMax, 100)] as const;
    if (spend[0] !== undefined) next.totalSpendMin = spend[0];
    if (spend[1] !== undefined) next.totalSpendMax = spend[1];
    if (draft.createdAfter) next.createdAfter = `${draft.createdAfter}T00:00:00Z`;
    if (draft.createdBefore) next.createdBefore = `${draft.createdBefore}T23:59:59Z`;
    if (draft.listId) next.listId = draft.listId;
    if (draft.metadataKey?.trim() && draft.metadataValue !== undefined)
      next.metadata = { ...next.metadata, [draft.metadataKey.trim()]: draft.metadataValue };
    onChange(next);
    setDraft({});
    setOpen(false);
  };

  return (
    <div class="filter-picker">
      <button type="button" aria-expanded={open} aria-controls="filter-form" onClick={() => setOpen(!open)}>
        Add filter
      </button>
      {open && (
        <form id="filter-form" class="filter-form" onSubmit={apply}>
          <label>
            Marketing
            <select value={draft.marketing ?? ''} onChange={set('marketing')}>
              <option value="">Any</option>
              <option value="true">Opted in</option>
              <option value="false">Opted out</option>
            </select>
          </label>
          <label>
            Points from
            <input type="number" inputMode="numeric" value={draft.pointsMin ?? ''} onInput={set('pointsMin')} />
          </label>
          <label>
            Points to
            <input type="number" inputMode="numeric" value={draft.pointsMax ?? ''} onInput={set('pointsMax')} />
          </label>
          <label>
            Spend from
            <input type="number" step="0.01" value={draft.spendMin ?? ''} onInput={set('spendMin')} />
          </label>
          <label>
            Spend to
            <input type="number" step="0.01" value={draft.spendMax ?? ''} onInput={set('spendMax')} />
          </label>
          <label>
            Created from
            <input type="date" value={draft.createdAfter ?? ''} onInput={set('createdAfter')} />
          </label>
          <label>
            Created until
            <input type="date" value={draft.createdBefore ?? ''} onInput={set('createdBefore')} />
          </label>
          <label>
            In list
            <select value={draft.listId ?? ''} onChange={set('listId')}>
              <option value="">Any</option>
              {lists.map((list) => (
                <option key={list.id} value={list.id}>
                  {list.name}
                </option>
              ))}
            </select>
          </label>
          <label>
            Metadata key
            <input value={draft.metadataKey ?? ''} onInput={set('metadataKey')} />
          </label>
          <label>
            Metadata value
            <input value={draft.metadataValue ?? ''} onInput={set('metadataValue')} />
          </label>
          <div class="form-actions">
            <button type="submit" class="primary">
              Apply
            </button>
            <button type="button" class="secondary" onClick={() => setOpen(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
    </div>
  );
}
