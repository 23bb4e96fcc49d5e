import { describe, expect, it } from 'vitest';
import { Prefetches } from './prefetch.js';

describe('Prefetches', () => {
  it('hands a started request to the first taker only', async () => {
    const prefetches = new Prefetches();
    let runs = 0;
    prefetches.start('page:a', () => Promise.resolve(++runs));
    expect(prefetches.take('page:b')).toBeUndefined();
    await expect(prefetches.take<number>('page:a')).resolves.toBe(1);
    expect(prefetches.take('page:a')).toBeUndefined();
    expect(runs).toBe(1);
  });

  it('passes a failure to its taker, and an untaken failure raises no unhandled rejection', async () => {
    const prefetches = new Prefetches();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      prefetches.start('taken', () => Promise.reject(new Error('404 Organization not found')));
      prefetches.start('untaken', () => Promise.reject(new Error('stale organization')));
      await expect(prefetches.take('taken')).rejects.toThrow('404 Organization not found');
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});
