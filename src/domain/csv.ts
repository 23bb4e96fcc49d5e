/**
 * A streaming RFC 4180 reader: quoted fields may hold commas, doubled quotes
 * and line breaks; lines end in CRLF or LF. It yields each record with the
 * line it starts on, holding only the current record in memory.
 */
export async function* readCsvRecords(
  chunks: AsyncIterable<string>,
): AsyncGenerator<{ line: number; fields: string[] }, void, undefined> {
  let fields: string[] = [];
  let field = '';
  let inQuotes = false;
  // After a closing quote: only a separator, a line end or another quote (an escaped one) may follow.
  let afterQuote = false;
  let line = 1;
  let recordLine = 1;
  let first = true;
  let pendingCr = false;
  let recordHasContent = false;

  for await (let chunk of chunks) {
    if (first) {
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
      first = false;
    }
    const out: { line: number; fields: string[] }[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (pendingCr) {
        pendingCr = false;
        if (c === 10) {
          start = i + 1;
          continue;
        }
      }
      if (inQuotes) {
        if (c === 34) {
          field += chunk.slice(start, i);
          inQuotes = false;
          afterQuote = true;
          start = i + 1;
        } else if (c === 10) line++;
        continue;
      }
      if (c === 34) {
        if (afterQuote) {
          // "" inside a quoted field: a literal quote, and the field goes on.
          field += '"';
          inQuotes = true;
          afterQuote = false;
          start = i + 1;
          continue;
        }
        if (chunk.slice(start, i).length > 0 || field.length > 0)
          throw new CsvError(line, 'a quote inside an unquoted field');
        inQuotes = true;
        recordHasContent = true;
        start = i + 1;
        continue;
      }
      if (c === 44) {
        fields.push(field + chunk.slice(start, i));
        field = '';
        afterQuote = false;
        recordHasContent = true;
        start = i + 1;
        continue;
      }
      if (c === 10 || c === 13) {
        const last = field + chunk.slice(start, i);
        if (recordHasContent || last.length > 0) {
          fields.push(last);
          out.push({ line: recordLine, fields });
        }
        fields = [];
        field = '';
        afterQuote = false;
        recordHasContent = false;
        line++;
        recordLine = line;
        if (c === 13) {
          if (i + 1 < chunk.length) {
            if (chunk.charCodeAt(i + 1) === 10) i++;
          } else pendingCr = true;
        }
        start = i + 1;
        continue;
      }
      if (afterQuote) throw new CsvError(line, 'text after a closing quote');
    }
    field += chunk.slice(start);
    yield* out;
  }
  if (inQuotes) throw new CsvError(recordLine, 'a quoted field is not closed');
  if (recordHasContent || field.length > 0) {
    fields.push(field);
    yield { line: recordLine, fields };
  }
}

export class CsvError extends Error {
  override readonly name = 'CsvError';
  constructor(
    readonly line: number,
    problem: string,
  ) {
    super(`line ${line}: ${problem}`);
  }
}

/** One CSV cell: quoted only when it must be (RFC 4180). */
export function csvCell(value: string | number | boolean | undefined): string {
  if (value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replaceAll('"', '""')}"` : text;
}
