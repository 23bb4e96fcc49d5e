/** Dates shown in the organization's timezone (issue 17), not the browser's. */
export function formatDateTime(value: string | undefined, timeZone: string | undefined): string {
  if (!value) return '—';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  try {
    return new Intl.DateTimeFormat('en-AU', { dateStyle: 'medium', timeStyle: 'short', timeZone }).format(date);
  } catch {
    return date.toISOString();
  }
}

export function formatDate(value: string | undefined, timeZone: string | undefined): string {
  if (!value) return '—';
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) return value;
  try {
    return new Intl.DateTimeFormat('en-AU', { dateStyle: 'medium', timeZone }).format(date);
  } catch {
    return value.slice(0, 10);
  }
}

export function formatMoney(cents: number | undefined, currency: string | undefined): string {
  if (cents === undefined) return '—';
  try {
    return new Intl.NumberFormat('en-AU', { style: 'currency', currency: currency ?? 'AUD' }).format(cents / 100);
  } catch {
    return (cents / 100).toFixed(2);
  }
}

export const formatNumber = (value: number | undefined) =>
  value === undefined ? '—' : new Intl.NumberFormat('en-AU').format(value);

export const fullName = (customer: { firstName?: string; lastName?: string }) =>
  [customer.firstName, customer.lastName].filter(Boolean).join(' ') || '(no name)';

/** A reference for a points adjustment made by hand: unique enough, readable in the ledger. */
export const manualReference = () =>
  `console-${new Date()
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 14)}-${Math.random().toString(36).slice(2, 8)}`;

/** A field's value as text: — for none, Yes/No for booleans, JSON for anything structured. */
export const displayValue = (value: unknown): string =>
  value === undefined || value === null || value === ''
    ? '—'
    : typeof value === 'boolean'
      ? value
        ? 'Yes'
        : 'No'
      : typeof value === 'string' || typeof value === 'number'
        ? String(value)
        : JSON.stringify(value);
