import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { errorResponses } from '../../contract/common.js';
import { FILE_FORMATS, FILE_MEDIA_TYPES, FileFormatQuery, ImportJobSchema } from '../../contract/imports.js';
import type { FileFormat } from '../../domain/customers/customer-files.js';
import { fileTooLarge, invalidField, unsupportedMediaType } from '../../errors.js';
import type { Services } from '../../services.js';
import { requestOrigin } from '../next-page.js';
import { OrganizationParams, organizationIdParam } from '../route-params.js';

const ImportParams = Type.Object({
  organizationId: organizationIdParam,
  importId: Type.String({ maxLength: 64, description: 'Import ID' }),
});
const MEDIA_TYPES = FILE_FORMATS.flatMap((format) => FILE_MEDIA_TYPES[format]);

/** The file format a Content-Type names (UTF-8 only), or the 415 that explains what to send. */
function formatOfMediaType(contentType: string | undefined): FileFormat {
  const [type = '', ...parameters] = (contentType ?? '').split(';').map((part) => part.trim().toLowerCase());
  const format = FILE_FORMATS.find((f) => FILE_MEDIA_TYPES[f].includes(type));
  const charset = parameters
    .find((p) => p.startsWith('charset='))
    ?.slice('charset='.length)
    .replaceAll('"', '');
  if (format === undefined || (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8')) {
    throw unsupportedMediaType(`Send the file as text/csv or application/x-ndjson (UTF-8), not "${contentType ?? ''}"`);
  }
  return format;
}

export const importRoutes: FastifyPluginAsyncTypebox<{
  services: Services;
  publicUrl: string | undefined;
  maxBytes: number;
}> = async (app, { services, publicUrl, maxBytes }) => {
  const { importJobs } = services;

  // In this plugin only: the body stays the request stream, read by the import service as it arrives. The route
  // checks the media type itself, so a JSON or form body gets the 415 that names what to send.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, _payload, done) => done(null, ''));
  app.addHook('onClose', async () => importJobs.drain());

  app.post(
    '/organizations/:organizationId/imports',
    {
      config: { scope: 'customers:write' },
      // No body at all (no Content-Type) reaches the handler too, for the 415 that says what to send.
      preValidation: async (request) => {
        request.body ??= '';
      },
      schema: {
        operationId: 'createImport',
        summary: 'Import customers from a CSV or NDJSON file (extension)',
        description:
          'The file is the raw request body (text/csv or application/x-ndjson, UTF-8), streamed to the server up to ' +
          'IMPORT_MAX_BYTES. Rows upsert as in `customers-api import`: by id, else by email, else a new customer; ' +
          'each is validated like POST /customers and a bad one is a reject with its line and reason, never an ' +
          'error of the request. Once the file is in, the import runs in the background: 202 with the job and its ' +
          'Location, whose GET reports live progress from any server process.',
        tags: ['Imports'],
        'x-extension': true,
        consumes: MEDIA_TYPES,
        params: OrganizationParams,
        querystring: Type.Object({
          format: FileFormatQuery('csv or ndjson; when given, it must agree with the Content-Type.'),
        }),
        body: Type.String({ description: 'The file: a CSV with a header row, or one JSON customer per line.' }),
        response: {
          202: {
            ...Type.Ref(ImportJobSchema),
            headers: Type.Object({ Location: Type.String({ description: 'Absolute URL of the import' }) }),
          },
          ...errorResponses(400, 401, 403, 404, 413, 415, 503),
        },
      },
    },
    async (request, reply) => {
      const format = formatOfMediaType(request.headers['content-type']);
      if (request.query.format !== undefined && request.query.format !== format) {
        throw invalidField('format', `is ${request.query.format} but the Content-Type is a ${format} file`);
      }
      const declared = Number(request.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) throw fileTooLarge(maxBytes);
      const { organizationId } = request.params;
      const job = await importJobs.startImport(organizationId, format, request.raw as IncomingMessage & Readable);
      const location = `${requestOrigin(request, publicUrl)}/organizations/${organizationId}/imports/${job.id}`;
      return reply.code(202).header('location', location).send(job);
    },
  );

  app.get(
    '/organizations/:organizationId/imports/:importId',
    {
      config: { scope: 'customers:read' },
      schema: {
        operationId: 'getImport',
        summary: 'Progress of an import (extension)',
        description:
          'Rows read, imported and rejected so far, and the first rejects. A running import whose server went away ' +
          'shows as failed.',
        tags: ['Imports'],
        'x-extension': true,
        params: ImportParams,
        response: { 200: Type.Ref(ImportJobSchema), ...errorResponses(400, 401, 403, 404, 503) },
      },
    },
    async (request) => importJobs.getImport(request.params.organizationId, request.params.importId),
  );

  app.get(
    '/organizations/:organizationId/imports/:importId/rejects',
    {
      config: { scope: 'customers:read' },
      schema: {
        operationId: 'listImportRejects',
        summary: 'Every rejected row of an import, as NDJSON (extension)',
        description: 'One `{"line": N, "reason": "..."}` object per line, in the order rejected, streamed.',
        tags: ['Imports'],
        'x-extension': true,
        params: ImportParams,
        response: {
          200: {
            description: 'The rejects, one JSON object a line',
            content: { 'application/x-ndjson': { schema: { type: 'string' } } },
          },
          ...errorResponses(400, 401, 403, 404, 503),
        },
      },
    },
    async (request, reply) => {
      const lines = await importJobs.rejectLines(request.params.organizationId, request.params.importId);
      return reply
        .type('application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="import-${request.params.importId}-rejects.ndjson"`)
        .send(Readable.from(lines));
    },
  );
};
