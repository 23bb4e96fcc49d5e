import { describe, expect, it } from 'vitest';
import type { Page } from '../../../src/client/index.js';
import { PagedLoader, type PagedState } from './paged-loader.js';

/** A source of pages whose answers the test releases one by one, in any order. */
function controlledSource(pages: Record<string, Page<number>>) {
  const pending: { after: string | undefined; signal: AbortSignal; release: () => void; fail: (e: Error) => void }[] =
    [];
  const fetchPage = (after: string | undefined, signal: AbortSignal) =>
    new Promise<Page<number>>((resolve, reject) => {
      pending.push({
        after,
        signal,
        release: () => resolve(pages[after ?? 'first']!),
        fail: reject,
      });
    });
  return { fetchPage, pending };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('paging hook (PagedLoader)', () => {
  it('fetches page after page through the X-Next-Page cursors and stops after the last', async () => {
    const states: PagedState<number>[] = [];
    const source = controlledSource({ first: { items: [1, 2], next: 'c2' }, c2: { items: [3], next: undefined } });
    const loader = new PagedLoader(source.fetchPage, (state) => states.push(state));
    void loader.reset();
    expect(loader.state.status).toBe('loading');
    source.pending[0]!.release();
    await settle();
    expect(loader.state).toMatchObject({ items: [1, 2], next: 'c2', status: 'ready', pages: 1 });

    void loader.loadMore();
    void loader.loadMore(); // a second call while the page is on its way asks for nothing more
    expect(source.pending).toHaveLength(2);
    expect(source.pending[1]!.after).toBe('c2');
    source.pending[1]!.release();
    await settle();
    expect(loader.state).toMatchObject({ items: [1, 2, 3], next: undefined, status: 'done', pages: 2 });
    void loader.loadMore();
    expect(source.pending).toHaveLength(2);
  });

  it('drops the answer of a source it has left, even when it arrives after the new one', async () => {
    const old = controlledSource({ first: { items: [1], next: 'x' } });
    const loader = new PagedLoader(old.fetchPage, () => undefined);
    void loader.reset();
    const fresh = controlledSource({ first: { items: [9], next: undefined } });
    void loader.reset(fresh.fetchPage);
    expect(old.pending[0]!.signal.aborted).toBe(true);
    fresh.pending[0]!.release();
    await settle();
    old.pending[0]!.release();
    await settle();
    expect(loader.state).toMatchObject({ items: [9], status: 'done', pages: 1 });
  });

  it('keeps what it has on an error and asks for the same page again on retry', async () => {
    const source = controlledSource({ first: { items: [1], next: 'c2' }, c2: { items: [2], next: undefined } });
    const loader = new PagedLoader(source.fetchPage, () => undefined);
    void loader.reset();
    source.pending[0]!.release();
    await settle();
    void loader.loadMore();
    source.pending[1]!.fail(new Error('boom'));
    await settle();
    expect(loader.state).toMatchObject({ items: [1], status: 'error', next: 'c2' });
    expect((loader.state.error as Error).message).toBe('boom');
    void loader.loadMore();
    expect(source.pending[2]!.after).toBe('c2');
    source.pending[2]!.release();
    await settle();
    expect(loader.state).toMatchObject({ items: [1, 2], status: 'done', error: undefined });
  });
});
