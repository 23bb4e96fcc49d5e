import { once } from 'node:events';
import fs from 'node:fs';
import { singleOrganization, UsageError, type Command } from '../command.js';
import { parseFileFormat, runExport } from '../import-export.js';

export const exportCommand: Command = {
  usage: `export --org ORG [--format ndjson|csv] [--output FILE]
                                stream every customer of the organization to stdout or a file`,
  options: {
    org: { type: 'string', multiple: true },
    format: { type: 'string' },
    output: { type: 'string', short: 'o' },
  },
  async run(context) {
    const organizationId = singleOrganization(context, 'export');
    if (context.args.length > 0) throw new UsageError('export takes no FILE argument; use --output FILE');
    const file = context.string('output');
    const format = parseFileFormat(context.string('format'), file);
    return context.withServices(async (services) => {
      const output = file === undefined ? process.stdout : fs.createWriteStream(file);
      const count = await runExport(services, { organizationId, format, output });
      if (output !== process.stdout) {
        output.end();
        await once(output, 'finish');
      }
      console.error(`Exported ${count} customers${file ? ` to ${file}` : ''}`);
      return 0;
    });
  },
};
