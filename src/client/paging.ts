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
  async page(after?: string, options: CallOptions = {}): Promise<Page<T>> {
    const response = await this.#transport.request<T[]>({
      ...this.#request,
      ...options,
      signal: options.signal ?? this.#request.signal,
      query: { ...this.#request.query, after },
    });
    return { items: response.body, next: cursorFromNextPage(response.headers.get('x-next-page')) };
  }

  /**
   * Every page in order.
   *
   * @example
   * for await (const page of client.customers.list(org).pages()) {
   *   await saveBatch(page.items);
   * }
   */
  async *pages(): AsyncGenerator<Page<T>, void, undefined> {
    let after: string | undefined;
    do {
      const page = await this.page(after);
      yield page;
      after = page.next;
    } while (after !== undefined);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for await (const page of this.pages()) yield* page.items;
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
