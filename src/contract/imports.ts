import { Type, type Static } from '@sinclair/typebox';
import { StringEnum } from './common.js';

export const FILE_FORMATS = ['ndjson', 'csv'] as const;
/** Media types of each file format, the first the one exports are sent as. */
export const FILE_MEDIA_TYPES: Readonly<Record<(typeof FILE_FORMATS)[number], readonly string[]>> = {
  ndjson: ['application/x-ndjson', 'application/ndjson', 'application/jsonl'],
  csv: ['text/csv'],
};
/** Rejected rows an import's body lists; GET .../imports/{id}/rejects streams them all. */
export const IMPORT_REJECTS_SHOWN = 1000;

export const FileFormatQuery = (description: string) => Type.Optional(StringEnum(FILE_FORMATS, { description }));

const Timestamp = (description: string) =>
  Type.String({ format: 'date-time', description, examples: ['2026-12-03T02:00:00.000Z'] });

export const ImportRejectSchema = Type.Object({
  line: Type.Integer({ description: 'Line of the file the row starts on (1 is the first line, a CSV header too).' }),
  reason: Type.String({ description: 'Why the row was not imported, for people.' }),
});
export type ImportReject = Static<typeof ImportRejectSchema>;

export const ImportJobSchema = Type.Object(
  {
    // Alphabetical, as LOKE serializes.
    completedAt: Type.Optional(Timestamp('When the import completed or failed; absent while running.')),
    error: Type.Optional(
      Type.String({ description: 'Why a failed import stopped (a malformed file, the server going away).' }),
    ),
    format: StringEnum(FILE_FORMATS),
    id: Type.String({ description: 'ID of the import' }),
    rejects: Type.Array(ImportRejectSchema, {
      description: `The first ${IMPORT_REJECTS_SHOWN} rejected rows, in the order rejected; GET .../imports/{id}/rejects has all.`,
    }),
    rowsImported: Type.Integer({ description: 'Rows written (created or updated customers) or already current.' }),
    rowsRead: Type.Integer({ description: 'Rows read from the file so far (a CSV header is not a row).' }),
    rowsRejected: Type.Integer({ description: 'Rows not imported so far, each with its line and reason.' }),
    startedAt: Timestamp('When the import started (once the whole file was received).'),
    status: StringEnum(['running', 'completed', 'failed'] as const, {
      description:
        'running until every row is read and written; completed (rows may still have been rejected) or failed.',
    }),
  },
  { $id: 'ImportJob', title: 'ImportJob', 'x-extension': true },
);
export type ImportJob = Static<typeof ImportJobSchema>;
