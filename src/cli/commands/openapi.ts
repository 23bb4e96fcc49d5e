import fs from 'node:fs';
import type { Command } from '../command.js';

export const openapi: Command = {
  usage: `openapi [--output FILE]       print the OpenAPI document (npm run openapi writes docs/openapi.json)`,
  options: { output: { type: 'string', short: 'o' } },
  async run(context) {
    // Loaded here, not at the top: the other commands start faster without Fastify and the routes.
    const { formatOpenApiDocument, generateOpenApiDocument } = await import('../openapi-document.js');
    const text = formatOpenApiDocument(await generateOpenApiDocument());
    const file = context.string('output');
    if (file === undefined) process.stdout.write(text);
    else fs.writeFileSync(file, text);
    return 0;
  },
};
