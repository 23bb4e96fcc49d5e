import { workerData } from 'node:worker_threads';
import type { CountryCode } from 'libphonenumber-js/max';
import { validateImportChunk, type ImportRecord, type ValidatedChunk } from './import-validation.js';

const { region } = workerData as { region: CountryCode };

/** One chunk of an import, decoded and validated off the main thread (run by the pool in import-validation-pool). */
export default function validate(records: ImportRecord[]): ValidatedChunk {
  return validateImportChunk(records, region);
}
