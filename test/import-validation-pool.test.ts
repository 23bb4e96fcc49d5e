import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import type * as PoolModule from '../src/domain/customers/import-validation-pool.js';
import { ROOT } from './helpers/processes.js';

// The pool's worker script is JavaScript: load the pool from the build (`npm test` builds first), as the CLI does.
const { createValidationPool } = (await import(
  pathToFileURL(path.join(ROOT, 'dist/domain/customers/import-validation-pool.js')).href
)) as typeof PoolModule;

const record = (line: number, firstName: string) => ({
  line,
  text: JSON.stringify({ firstName, lastName: 'Pool', email: `p${line}@example.com`, phoneNumber: '+61411222333' }),
});

describe('import validation pool (piscina)', () => {
  it('validates chunks on worker threads, in any number at once', async () => {
    const pool = await createValidationPool(2, 'AU');
    try {
      const chunks = await Promise.all(
        Array.from({ length: 8 }, (_, c) => pool.validate([record(c * 2 + 1, 'Ann'), record(c * 2 + 2, '')])),
      );
      for (const chunk of chunks) {
        expect(chunk.valid).toHaveLength(1);
        expect(chunk.rejected).toHaveLength(1);
      }
    } finally {
      await pool.close();
    }
  });

  it('replaces a worker that dies (out of memory): that chunk fails, the next ones are validated', async () => {
    const pool = await createValidationPool(1, 'AU');
    try {
      // One chunk far beyond a worker's 128 MB heap limit kills the only worker.
      const huge = Array.from({ length: 40 }, (_, i) => ({
        line: i + 1,
        text: JSON.stringify({ n: 'x'.repeat(8e6) }),
      }));
      await expect(pool.validate(huge)).rejects.toThrow();
      const after = await pool.validate([record(1, 'Bo')]);
      expect(after.valid).toHaveLength(1);
      expect(after.rejected).toEqual([]);
    } finally {
      await pool.close();
    }
  }, 60_000);
});
