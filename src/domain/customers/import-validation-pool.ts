import { Piscina } from 'piscina';
import type { CountryCode } from 'libphonenumber-js/max';
import type { ImportRecord, ValidatedChunk } from './import-validation.js';

export interface ValidationPool {
  readonly size: number;
  validate(records: readonly ImportRecord[]): Promise<ValidatedChunk>;
  close(): Promise<void>;
}

/**
 * Worker threads that decode and validate import chunks (phone number parsing dominates an import's CPU), so the
 * main thread only writes. Piscina keeps `size` threads and replaces one that crashes; the chunk it held fails (the
 * import reports it) and the others carry on.
 */
export async function createValidationPool(size: number, region: CountryCode): Promise<ValidationPool> {
  const pool = new Piscina<readonly ImportRecord[], ValidatedChunk>({
    filename: new URL('./import-validation-worker.js', import.meta.url).href,
    minThreads: size,
    maxThreads: size,
    // The import sends at most a few chunks ahead; a queue bound keeps a stalled pool from buffering a whole file.
    maxQueue: size * 4,
    workerData: { region },
    // A worker only ever holds one chunk: a small young generation keeps its memory, and the import's, flat.
    resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 128 },
  });
  return {
    size,
    validate: (records) => pool.run(records),
    close: () => pool.destroy(),
  };
}
