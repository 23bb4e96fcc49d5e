/** What the import baselines read from an NDJSON line, and the column values they write for it. */
import fs from 'node:fs';
import readline from 'node:readline';

/** A line of the bench's import files (the API's create-customer shape; the all-updates file adds the id). */
export interface ImportLine {
  id?: string;
  firstName: string;
  lastName: string;
  email?: string;
  phoneNumber?: string;
  dob?: string;
  gender?: string;
  hasAgreedToMarketing?: boolean;
  createdAt?: string;
}

/**
 * The row's values in the baselines' column order: organization_id, id, first_name, last_name, email,
 * email_normalized, phone_number, dob, gender, has_agreed_to_marketing, created_at, updated_at.
 */
export function lineValues(line: ImportLine, organizationId: string, id: string, now: number): unknown[] {
  return [
    organizationId,
    id,
    line.firstName,
    line.lastName,
    line.email ?? null,
    line.email ? line.email.trim().toLowerCase() : null,
    line.phoneNumber ?? null,
    line.dob ?? null,
    line.gender ?? null,
    line.hasAgreedToMarketing === undefined ? null : line.hasAgreedToMarketing ? 1 : 0,
    line.createdAt ? Date.parse(line.createdAt) : now,
    now,
  ];
}

/** Reads the file's lines, JSON.parse each, and hands them to `write` 1000 at a time; prints the run's figures. */
export async function loadLines(input: string, write: (lines: ImportLine[]) => unknown): Promise<void> {
  const started = performance.now();
  let rows = 0;
  let batch: ImportLine[] = [];
  for await (const text of readline.createInterface({
    input: fs.createReadStream(input, { highWaterMark: 1 << 20 }),
    crlfDelay: Infinity,
  })) {
    if (text === '') continue;
    batch.push(JSON.parse(text) as ImportLine);
    if (batch.length === 1000) {
      await write(batch);
      rows += batch.length;
      batch = [];
    }
  }
  await write(batch);
  rows += batch.length;
  const seconds = (performance.now() - started) / 1000;
  console.log(JSON.stringify({ rows, seconds, rowsPerSecond: Math.round(rows / seconds) }));
}
