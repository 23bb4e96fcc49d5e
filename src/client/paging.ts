import type { ApiRequest, CallOptions, Transport } from './transport.js';

/** One page of a list endpoint. */
export interface Page<T> {
  items: T[];
  /** The cursor of the next page (from X-Next-Page); undefined on the last page. */
  next: string | undefined;
}

/** The `after` cursor of an X-Next-Page URL, whatever host the server put in it. */
export function cursorFromNextPage(header: string | null): string | undefined {
  if (header === null || header === '') return undefined;
  const after = new URL(header, 'http://placeholder.invalid').searchParams.get('after');
  return after === null || after === '' ? undefined : after;
}

/**
 * The items of a paged list, fetched a page at a time as they are consumed.
 * Iterate it for the items (`for await (const customer of list)`), or call
 * `pages()` for whole pages.
 *
 * The next page is requested with the cursor of `X-Next-Page` on this
 * client's base URL, so a server behind a proxy that reports another host
 * still pages correctly.
 */
export class PagedList<T> implements AsyncIterable<T> {
  readonly #transport: Transport;
  readonly #request: ApiRequest;

  constructor(transport: Transport, request: ApiRequest) {
    this.#transport = transport;
    this.#request = request;
  }

  /** Fetches one page; `after` is a cursor from a previous page's `next`. */
  async page(after?: string, options: CallOptions & { onHeaders?: (headers: Headers) => void } = {}): Promise<Page<T>> {
    const response = await this.#transport.request<T[]>({
      ...this.#request,
      ...options,
      signal: options.signal ?? this.#request.signal,
      query: { ...this.#request.query, after },
    });
    return { items: response.body, next: cursorFromNextPage(response.headers.get('x-next-page')) };
  }

  /**
   * Every page in order. With `prefetch`, the next page is requested as soon
   * as the headers of the one the caller waits for arrive, so the server
   * builds it while this one downloads, parses and is processed; at most one
   * page runs ahead, and leaving the loop early cancels it.
   *
   * @example
   * for await (const page of client.customers.list(org).pages({ prefetch: true })) {
   *   await saveBatch(page.items);
   * }
   */
  async *pages(options: { prefetch?: boolean } = {}): AsyncGenerator<Page<T>, void, undefined> {
    if (!options.prefetch) {
      let after: string | undefined;
      do {
        const page = await this.page(after);
        yield page;
        after = page.next;
      } while (after !== undefined);
      return;
    }

    interface Slot {
      page: Promise<Page<T>>;
      cursor?: string | undefined;
      next?: Slot | undefined;
    }
    const controller = new AbortController();
    const userSignal = this.#request.signal;
    const forwardAbort = () => controller.abort(userSignal?.reason);
    if (userSignal?.aborted) forwardAbort();
    userSignal?.addEventListener('abort', forwardAbort, { once: true });
    let waitingFor: Slot | undefined;
    const startNext = (slot: Slot) => {
      if (slot.next === undefined && slot.cursor !== undefined) slot.next = start(slot.cursor);
    };
    const start = (after: string | undefined): Slot => {
      const slot: Slot = {} as Slot;
      slot.page = this.page(after, {
        signal: controller.signal,
        onHeaders: (headers) => {
          slot.cursor = cursorFromNextPage(headers.get('x-next-page'));
          if (waitingFor === slot) startNext(slot);
        },
      });
      // A prefetched page's failure surfaces when the loop reaches it; until then it must not count as unhandled.
      slot.page.catch(() => undefined);
      return slot;
    };

    let slot: Slot | undefined = start(undefined);
    try {
      while (slot) {
        waitingFor = slot;
        startNext(slot);
        const page: Page<T> = await slot.page;
        slot.cursor = page.next;
        startNext(slot);
        waitingFor = undefined;
        const next: Slot | undefined = slot.next;
        yield page;
        slot = next;
      }
    } finally {
      userSignal?.removeEventListener('abort', forwardAbort);
      controller.abort();
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for await (const page of this.pages({ prefetch: true })) yield* page.items;
  }

  /**
   * Collects every item into an array; for small lists only.
   *
   * @example
   * const organizations = await client.organizations.list().toArray();
   */
  async toArray(): Promise<T[]> {
    const items: T[] = [];
    for await (const item of this) items.push(item);
    return items;
  }
}
