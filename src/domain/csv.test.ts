import { describe, expect, it } from 'vitest';
import { csvCell, CsvError, readCsvRecords } from './csv.js';

async function parse(text: string, chunkSize = text.length || 1) {
  async function* chunks() {
    for (let i = 0; i < text.length; i += chunkSize) yield text.slice(i, i + chunkSize);
  }
  const records: { line: number; fields: string[] }[] = [];
  for await (const record of readCsvRecords(chunks())) records.push(record);
  return records;
}

describe('readCsvRecords', () => {
  const text = '\uFEFFa,b,c\r\n1,"two, too","say ""hi"""\r\n"multi\nline",,x\n\n4,5,6';
  const expected = [
    { line: 1, fields: ['a', 'b', 'c'] },
    { line: 2, fields: ['1', 'two, too', 'say "hi"'] },
    { line: 3, fields: ['multi\nline', '', 'x'] },
    { line: 6, fields: ['4', '5', '6'] },
  ];

  it('reads quoted fields, escaped quotes, embedded line breaks and CRLF, with the line each record starts on', async () => {
    expect(await parse(text)).toEqual(expected);
  });

  it('gives the same records whatever the chunk boundaries', async () => {
    for (const size of [1, 2, 3, 5, 7]) expect(await parse(text, size), `chunks of ${size}`).toEqual(expected);
  });

  it('keeps a trailing empty field and a record without a final line break', async () => {
    expect(await parse('a,\n,b')).toEqual([
      { line: 1, fields: ['a', ''] },
      { line: 2, fields: ['', 'b'] },
    ]);
  });

  it('refuses malformed quoting with the line number', async () => {
    await expect(parse('a,b\n1,"open\n')).rejects.toThrow(new CsvError(2, 'a quoted field is not closed'));
    await expect(parse('a\nx"y\n')).rejects.toThrow('line 2: a quote inside an unquoted field');
    await expect(parse('"a"b\n')).rejects.toThrow('line 1: text after a closing quote');
  });
});

describe('csvCell', () => {
  it('quotes only what needs it, and round-trips through the reader', async () => {
    const values = ['plain', 'with, comma', 'with "quote"', 'two\nlines', ' padded '];
    expect(values.map(csvCell)).toEqual(['plain', '"with, comma"', '"with ""quote"""', '"two\nlines"', '" padded "']);
    expect(csvCell(undefined)).toBe('');
    expect(csvCell(true)).toBe('true');
    expect(await parse(`${values.map(csvCell).join(',')}\n`)).toEqual([{ line: 1, fields: values }]);
  });
});
