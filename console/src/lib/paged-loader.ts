import { useEffect, useRef, useState } from 'preact/hooks';
import type { Page } from '../../../src/client/index.js';

export type FetchPage<T> = (after: string | undefined, signal: AbortSignal) => Promise<Page<T>>;

export interface PagedState<T> {
  items: T[];
  /** Cursor of the next page; undefined once the last page is in. */
  next: string | undefined;
  status: 'loading' | 'ready' | 'done' | 'error';
  error: unknown;
  /** How many pages have arrived for the current source. */
  pages: number;
}

const initial = <T>(): PagedState<T> => ({ items: [], next: undefined, status: 'loading', error: undefined, pages: 0 });

/**
 * Pages of a list fetched one at a time through X-Next-Page cursors. `reset` switches to another source (new search
 * text, filters or sort): the request in flight is aborted and, should its answer still arrive, dropped, so a slow
 * stale response never overwrites a newer one.
 */
export class PagedLoader<T> {
  #fetchPage: FetchPage<T>;
  #state: PagedState<T> = initial<T>();
  #generation = 0;
  #controller: AbortController | undefined;
  #inFlight = false;
  readonly #onChange: (state: PagedState<T>) => void;

  constructor(fetchPage: FetchPage<T>, onChange: (state: PagedState<T>) => void) {
    this.#fetchPage = fetchPage;
    this.#onChange = onChange;
  }

  get state(): PagedState<T> {
    return this.#state;
  }

  /** Starts over with another source and fetches its first page. */
  reset(fetchPage: FetchPage<T> = this.#fetchPage): Promise<void> {
    this.#controller?.abort();
    this.#controller = undefined;
    this.#inFlight = false;
    this.#fetchPage = fetchPage;
    this.#generation++;
    this.#set(initial<T>());
    return this.#load(undefined);
  }

  /** Fetches the next page unless one is on its way or the list is complete; after an error, tries that page again. */
  loadMore(): Promise<void> {
    if (this.#inFlight || this.#state.status === 'done') return Promise.resolve();
    if (this.#state.pages === 0) return this.#load(undefined);
    if (this.#state.next === undefined) return Promise.resolve();
    return this.#load(this.#state.next);
  }

  dispose(): void {
    this.#generation++;
    this.#controller?.abort();
  }

  async #load(after: string | undefined): Promise<void> {
    const generation = this.#generation;
    const controller = new AbortController();
    this.#controller = controller;
    this.#inFlight = true;
    if (this.#state.status !== 'loading') this.#set({ ...this.#state, status: 'loading', error: undefined });
    try {
      const page = await this.#fetchPage(after, controller.signal);
      if (generation !== this.#generation) return;
      this.#set({
        items: this.#state.items.concat(page.items),
        next: page.next,
        status: page.next === undefined ? 'done' : 'ready',
        error: undefined,
        pages: this.#state.pages + 1,
      });
    } catch (error) {
      if (generation !== this.#generation) return;
      this.#set({ ...this.#state, status: 'error', error });
    } finally {
      if (generation === this.#generation) this.#inFlight = false;
    }
  }

  #set(state: PagedState<T>) {
    this.#state = state;
    this.#onChange(state);
  }
}

/** A PagedLoader for a component: starts over whenever `key` changes (the source's identity). */
export function usePagedList<T>(key: string, fetchPage: FetchPage<T>): PagedState<T> & { loadMore: () => void } {
  const [state, setState] = useState<PagedState<T>>(initial<T>);
  const loader = useRef<PagedLoader<T>>();
  loader.current ??= new PagedLoader<T>(fetchPage, setState);
  useEffect(() => {
    void loader.current!.reset(fetchPage);
    // fetchPage is read when key changes; a new closure with the same key is the same source.
  }, [key]);
  useEffect(() => () => loader.current?.dispose(), []);
  return { ...state, loadMore: () => void loader.current!.loadMore() };
}
