import os from 'node:os';
import { integerOption, singleOrganization, UsageError, type Command } from '../command.js';
import { parseFileFormat, parseRecordType, runImport } from '../import-export.js';

export const importCommand: Command = {
  usage: `import --org ORG FILE [--type customers|payments] [--format csv|ndjson] [--rejects FILE] [--batch-size N] [--threads N]
                                upsert customers from a CSV or NDJSON file (by id, else by email), streaming;
                                --type payments records payment history from NDJSON (spend comes from payments)`,
  options: {
    org: { type: 'string', multiple: true },
    type: { type: 'string' },
    format: { type: 'string' },
    rejects: { type: 'string' },
    'batch-size': { type: 'string' },
    threads: { type: 'string' },
  },
  async run(context) {
    const organizationId = singleOrganization(context, 'import');
    const [file, ...rest] = context.args;
    if (file === undefined || rest.length > 0) throw new UsageError('import needs exactly one FILE');
    // On 2 cores or fewer a validation thread only competes with the writer: measured on 30,000 rows on 2 cores,
    // a worker cost 15% more CPU and 40-70 MB more peak RSS for no gain in time (bench/ANALYSIS.md, import round three).
    const cores = os.availableParallelism();
    const threads = integerOption(context, 'threads', cores > 2 ? Math.min(4, cores - 1) : 0, 0, 32);
    const format = parseFileFormat(context.string('format'), file);
    const type = parseRecordType(context.string('type'), format);
    // Customers commit 5000 rows at a time: on 100,000 rows 5000 took 20% less CPU than 1000 (fewer commits).
    const batchSize = integerOption(context, 'batch-size', type === 'customers' ? 5000 : 1000, 1, 50_000);
    return context.withServices(async (services) => {
      const result = await runImport(services, {
        organizationId,
        type,
        file,
        format,
        rejectsFile: context.string('rejects'),
        batchSize,
        // Validation (phone numbers above all) runs beside the writer on the other cores.
        workers: threads,
        progress: process.stderr,
      });
      const summary =
        `Imported ${result.rows} rows in ${result.seconds.toFixed(1)} s (${result.rowsPerSecond} rows/s): ` +
        `${result.inserted} inserted, ${result.updated} updated, ${result.unchanged} unchanged, ${result.rejected} rejected` +
        (result.rejectsFile ? ` (see ${result.rejectsFile})` : '');
      if (context.json) console.log(JSON.stringify(result));
      else console.error(summary);
      // A distinct status lets scripts tell "done, but some rows were rejected" from success and from failure.
      return result.rejected > 0 ? 4 : 0;
    });
  },
};
