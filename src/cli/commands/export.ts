import { once } from 'node:events';
import fs from 'node:fs';
import { singleOrganization, UsageError, type Command } from '../command.js';
import { parseFileFormat, parseRecordType, runExport } from '../import-export.js';

export const exportCommand: Command = {
  usage: `export --org ORG [--type customers|payments] [--format ndjson|csv] [--output FILE]
                                stream every customer (or payment: NDJSON) of the organization to stdout or a file`,
  options: {
    org: { type: 'string', multiple: true },
    type: { type: 'string' },
    format: { type: 'string' },
    output: { type: 'string', short: 'o' },
  },
  async run(context) {
    const organizationId = singleOrganization(context, 'export');
    if (context.args.length > 0) throw new UsageError('export takes no FILE argument; use --output FILE');
    const file = context.string('output');
    const format = parseFileFormat(context.string('format'), file);
    const type = parseRecordType(context.string('type'), format);
    return context.withServices(async (services) => {
      const output = file === undefined ? process.stdout : fs.createWriteStream(file);
      const count = await runExport(services, { organizationId, format, output, type });
      if (output !== process.stdout) {
        output.end();
        await once(output, 'finish');
      }
      console.error(`Exported ${count} ${type}${file ? ` to ${file}` : ''}`);
      return 0;
    });
  },
};
