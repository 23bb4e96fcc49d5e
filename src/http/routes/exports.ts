import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { errorResponses } from '../../contract/common.js';
import { FILE_MEDIA_TYPES, FileFormatQuery } from '../../contract/imports.js';
import type { Services } from '../../services.js';
import { OrganizationParams } from '../route-params.js';

export const exportRoutes: FastifyPluginAsyncTypebox<{ services: Services }> = async (app, { services }) => {
  app.get(
    '/organizations/:organizationId/exports',
    {
      config: { scope: 'customers:read' },
      schema: {
        operationId: 'exportCustomers',
        summary: 'Download every customer as CSV or NDJSON (extension)',
        description:
          'Streams every customer of the organization, most recently created first, as `customers-api export` ' +
          'writes them: NDJSON (default) one customer JSON a line, or CSV with the import columns (statistics.x, ' +
          'then a metadata.KEY column per metadata key). Sent as an attachment, in constant memory; a file an ' +
          'import reads back as it was.',
        tags: ['Imports'],
        'x-extension': true,
        params: OrganizationParams,
        querystring: Type.Object({ format: FileFormatQuery('ndjson (default) or csv') }),
        response: {
          200: {
            description: 'The file, streamed',
            headers: { 'Content-Disposition': { type: 'string', description: 'attachment; filename="..."' } },
            content: {
              [FILE_MEDIA_TYPES.ndjson[0]!]: { schema: { type: 'string' } },
              [FILE_MEDIA_TYPES.csv[0]!]: { schema: { type: 'string' } },
            },
          },
          ...errorResponses(400, 401, 403, 404, 503),
        },
      },
    },
    async (request, reply) => {
      const format = request.query.format ?? 'ndjson';
      const { organizationId } = request.params;
      const chunks = await services.exports.exportFile(organizationId, format);
      const day = new Date().toISOString().slice(0, 10);
      return reply
        .type(`${FILE_MEDIA_TYPES[format][0]}; charset=utf-8`)
        .header('content-disposition', `attachment; filename="customers-${organizationId}-${day}.${format}"`)
        .send(Readable.from(chunks));
    },
  );
};
