import { useState } from 'preact/hooks';
import { useLocation } from 'wouter-preact';
import { useConsole } from '../context.js';
import { hasFilters, segmentFilter, type CustomerFilters } from '../lib/filters.js';
import { ErrorPanel } from '../components/status.js';

/** Creates a manual list, or a segment defined by the customers screen's current search and filters. */
export function SaveAsList({ filters, preview }: { filters: CustomerFilters; preview?: string }) {
  const { api, organization, canWrite } = useConsole();
  const [open, setOpen] = useState(false);
  const [name, setName] = useState('');
  const [kind, setKind] = useState<'manual' | 'segment'>('segment');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [, navigate] = useLocation();
  if (!canWrite) return null;
  const segmentable = hasFilters(filters) || (filters.q?.length ?? 0) >= 2;

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const body =
        kind === 'segment' && segmentable
          ? { name: name.trim(), filter: segmentFilter(filters) }
          : { name: name.trim() };
      const list = await api.request<{ id: string }>({
        method: 'POST',
        path: `/organizations/${encodeURIComponent(organization.id)}/customer-lists`,
        body,
      });
      navigate(`/lists/${list.id}`);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="save-as-list">
      <button type="button" aria-expanded={open} aria-controls="save-list-form" onClick={() => setOpen(!open)}>
        Save as list…
      </button>
      {open && (
        <form id="save-list-form" class="popover-form" onSubmit={(event) => void submit(event)}>
          <label>
            List name
            <input
              required
              maxLength={200}
              value={name}
              onInput={(e) => setName((e.target as HTMLInputElement).value)}
            />
          </label>
          <fieldset>
            <legend>Kind</legend>
            <label class="inline">
              <input
                type="radio"
                name="kind"
                value="segment"
                checked={kind === 'segment'}
                disabled={!segmentable}
                onChange={() => setKind('segment')}
              />
              Segment: everyone matching the current search and filters, kept up to date
            </label>
            {segmentable && preview !== undefined && (
              <p class="help" data-testid="segment-preview">
                {preview} customers match now.
              </p>
            )}
            <label class="inline">
              <input
                type="radio"
                name="kind"
                value="manual"
                checked={kind === 'manual' || !segmentable}
                onChange={() => setKind('manual')}
              />
              Manual list: starts empty, members added by hand
            </label>
          </fieldset>
          <div class="form-actions">
            <button type="submit" class="primary" disabled={busy}>
              Create
            </button>
            <button type="button" class="secondary" onClick={() => setOpen(false)}>
              Cancel
            </button>
          </div>
          {error !== undefined && <ErrorPanel error={error} />}
        </form>
      )}
    </div>
  );
}
