import { Worker } from 'node:worker_threads';
import type { CountryCode } from 'libphonenumber-js/max';
import type { ImportRecord, ValidatedChunk } from './import-validation.js';

export interface ValidationPool {
  readonly size: number;
  validate(records: readonly ImportRecord[]): Promise<ValidatedChunk>;
  close(): Promise<void>;
}

type Reply = { id: number; result: ValidatedChunk } | { id: number; error: string };

/**
 * Worker threads that decode and validate import chunks (phone number
 * parsing dominates an import's CPU), so the main thread only writes.
 */
export async function createValidationPool(size: number, region: CountryCode): Promise<ValidationPool> {
  const script = new URL('./import-validation-worker.js', import.meta.url);
  // A worker only ever holds one chunk: a small young generation keeps its memory, and the import's, flat.
  const workers = Array.from(
    { length: size },
    () =>
      new Worker(script, {
        workerData: { region },
        resourceLimits: { maxYoungGenerationSizeMb: 8, maxOldGenerationSizeMb: 128 },
      }),
  );
  const pending = new Map<number, { resolve: (result: ValidatedChunk) => void; reject: (error: Error) => void }>();
  for (const worker of workers) {
    worker.on('message', (reply: Reply) => {
      const waiter = pending.get(reply.id);
      if (!waiter) return;
      pending.delete(reply.id);
      if ('error' in reply) waiter.reject(new Error(reply.error));
      else waiter.resolve(reply.result);
    });
    worker.on('error', (error) => {
      for (const waiter of pending.values()) waiter.reject(error);
      pending.clear();
    });
  }
  let next = 0;
  return {
    size,
    validate(records) {
      const id = next++;
      const worker = workers[id % workers.length]!;
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, records });
      });
    },
    async close() {
      await Promise.all(workers.map((worker) => worker.terminate()));
    },
  };
}
