import type { Figure } from './report.js';

export interface ImportBenchOptions {
  rows: number;
  log: (message: string) => void;
  notes: string[];
}

/** Import of an NDJSON file through the CLI: rows/s and the importer's peak RSS. */
export async function runImportBenchmark(options: ImportBenchOptions): Promise<Figure[]> {
  return [
    {
      section: 'Import (SQLite)',
      name: `import ${options.rows.toLocaleString('en')}-row NDJSON`,
      ours: undefined,
      base: undefined,
      unit: 'rows/s',
      detail: '',
      target: { kind: 'absolute', min: 50_000 },
      pending: 'pending: the import CLI lands with the SDK/import branch',
    },
  ];
}
