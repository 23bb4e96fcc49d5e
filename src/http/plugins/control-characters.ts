import type { FastifyInstance } from 'fastify';
import { invalidField } from '../../errors.js';

// C0 controls (and DEL). PostgreSQL rejects NUL in text while SQLite stores it, so letting one through makes the
// backends disagree; the others have no place in names, identifiers or cursors and only hide text from people.
// A lone surrogate (`"\ud800"` in JSON, or a percent-escape of one) is not text: stored, it reads back as U+FFFD,
// so it is refused too. With the u flag a well-formed pair is one code point, so only lone halves match \p{Cs}.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]|\p{Cs}/u;
// Body text may span lines or hold a tab; each field's own format check (email, phone, URL, date) still applies.
// eslint-disable-next-line no-control-regex -- as above
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]|\p{Cs}/u;

function describe(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** The usual case, no value or a flat object of clean strings (path and query parameters), without the walk below. */
function isCleanFlat(value: unknown, pattern: RegExp): boolean {
  if (value === undefined) return true;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  for (const key in value) {
    const item = (value as Record<string, unknown>)[key];
    if (typeof item !== 'string' || CONTROL.test(key) || pattern.test(item)) return false;
  }
  return true;
}

/**
 * The dotted name of the first string in `value` (keys included) that holds a
 * character `pattern` matches, with that character; undefined when it is clean.
 * Iterative, in document order: a body nested thousands deep must not overflow the stack (it did: a 500).
 */
function findControlCharacter(
  value: unknown,
  pattern: RegExp,
  path: string,
): { field: string; char: string } | undefined {
  if (isCleanFlat(value, pattern)) return undefined;
  // Each entry: a value, its dotted path, and the object key it sits under (checked when the entry is visited).
  const pending: [unknown, string, string | undefined][] = [[value, path, undefined]];
  while (pending.length > 0) {
    const [current, field, key] = pending.pop()!;
    if (key !== undefined) {
      const inKey = CONTROL.exec(key);
      if (inKey) return { field, char: inKey[0] };
    }
    if (typeof current === 'string') {
      const found = pattern.exec(current);
      if (found) return { field, char: found[0] };
    } else if (Array.isArray(current)) {
      for (let index = current.length - 1; index >= 0; index--) {
        pending.push([current[index], `${field}.${index}`, undefined]);
      }
    } else if (current !== null && typeof current === 'object') {
      const entries: [string, unknown][] = Object.entries(current as Record<string, unknown>);
      for (let index = entries.length - 1; index >= 0; index--) {
        const [name, item] = entries[index]!;
        pending.push([item, field === '' ? name : `${field}.${name}`, name]);
      }
    }
  }
  return undefined;
}

/**
 * The name of the first query parameter whose percent-escapes do not decode as UTF-8 (`%FF`, `%ED%A0%80`). Fastify's
 * query parser keeps such a value as its raw text, so without this check `%E9` would be searched for literally.
 */
function findUndecodableQueryParameter(url: string): string | undefined {
  const query = url.indexOf('?');
  if (query === -1 || !url.includes('%', query)) return undefined;
  for (const pair of url.slice(query + 1).split('&')) {
    const equals = pair.indexOf('=');
    const [name, value] = equals === -1 ? [pair, ''] : [pair.slice(0, equals), pair.slice(equals + 1)];
    for (const part of [name, value]) {
      try {
        decodeURIComponent(part);
      } catch {
        try {
          return decodeURIComponent(name);
        } catch {
          return 'query';
        }
      }
    }
  }
  return undefined;
}

function reject(found: { field: string; char: string }) {
  const code = found.char.codePointAt(0)!;
  const problem =
    code >= 0xd800 && code <= 0xdfff
      ? `must be valid Unicode text: it holds a lone surrogate ${describe(found.char)}`
      : `must not contain the control character ${describe(found.char)}`;
  return invalidField(found.field || 'body', problem);
}

/**
 * Rejects control characters in every path parameter, query parameter and
 * body string with a 400 naming the field, before auth, validation or any
 * database call. Register it before the auth hook.
 */
export function registerControlCharacterCheck(app: FastifyInstance) {
  app.addHook('onRequest', (request, _reply, done) => {
    const badlyEncoded = findUndecodableQueryParameter(request.url);
    if (badlyEncoded !== undefined) {
      return done(invalidField(badlyEncoded, 'is not valid percent-encoded UTF-8'));
    }
    const found = findControlCharacter(request.params, CONTROL, '') ?? findControlCharacter(request.query, CONTROL, '');
    done(found ? reject(found) : undefined);
  });
  app.addHook('preValidation', (request, _reply, done) => {
    if (request.body === undefined) return done();
    const found = findControlCharacter(request.body, CONTROL_IN_TEXT, '');
    done(found ? reject(found) : undefined);
  });
}
