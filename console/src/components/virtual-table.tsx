import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';

export interface Column<T> {
  key: string;
  header: string;
  cell: (row: T) => ComponentChildren;
  /** A class on the header and cells (used to hide columns on narrow screens). */
  className?: string;
}

const OVERSCAN = 10;

/**
 * A table that renders only the rows in view (plus a margin), so 100,000 loaded customers cost no more DOM than 30.
 * Real <table> markup, with spacer rows above and below, keeps it a table for screen readers and keyboard users.
 * `onNearEnd` asks for the next page when the view comes within a screen of the last loaded row.
 */
export function VirtualTable<T>({
  rows,
  columns,
  rowKey,
  rowHeight,
  caption,
  onNearEnd,
  footer,
}: {
  rows: T[];
  columns: Column<T>[];
  rowKey: (row: T) => string;
  rowHeight: number;
  caption: string;
  onNearEnd?: () => void;
  footer?: ComponentChildren;
}) {
  const scroller = useRef<HTMLDivElement>(null);
  const [view, setView] = useState({ top: 0, height: 600 });

  useLayoutEffect(() => {
    const element = scroller.current;
    if (!element) return;
    const measure = () => setView({ top: element.scrollTop, height: element.clientHeight || 600 });
    measure();
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  const first = Math.max(0, Math.floor(view.top / rowHeight) - OVERSCAN);
  const last = Math.min(rows.length, Math.ceil((view.top + view.height) / rowHeight) + OVERSCAN);

  useEffect(() => {
    if (onNearEnd && last + Math.ceil(view.height / rowHeight) >= rows.length) onNearEnd();
  }, [last, rows.length, view.height]);

  return (
    <div
      class="table-scroller"
      ref={scroller}
      tabIndex={0}
      role="region"
      aria-label={caption}
      onScroll={(event) => {
        const element = event.currentTarget;
        setView({ top: element.scrollTop, height: element.clientHeight || 600 });
      }}
    >
      <table class="data-table virtual">
        <caption class="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            {columns.map((column) => (
              <th key={column.key} scope="col" class={column.className}>
                {column.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {first > 0 && (
            <tr aria-hidden="true" class="spacer" style={{ height: `${first * rowHeight}px` }}>
              <td colSpan={columns.length} />
            </tr>
          )}
          {rows.slice(first, last).map((row) => (
            <tr key={rowKey(row)} style={{ height: `${rowHeight}px` }}>
              {columns.map((column) => (
                <td key={column.key} class={column.className}>
                  {column.cell(row)}
                </td>
              ))}
            </tr>
          ))}
          {last < rows.length && (
            <tr aria-hidden="true" class="spacer" style={{ height: `${(rows.length - last) * rowHeight}px` }}>
              <td colSpan={columns.length} />
            </tr>
          )}
        </tbody>
      </table>
      {footer}
    </div>
  );
}
