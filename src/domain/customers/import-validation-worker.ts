import { parentPort, workerData } from 'node:worker_threads';
import type { CountryCode } from 'libphonenumber-js/max';
import { validateImportChunk, type ImportRecord } from './import-validation.js';

const { region } = workerData as { region: CountryCode };

parentPort!.on('message', ({ id, records }: { id: number; records: ImportRecord[] }) => {
  try {
    parentPort!.postMessage({ id, result: validateImportChunk(records, region) });
  } catch (error) {
    parentPort!.postMessage({ id, error: (error as Error).message });
  }
});
