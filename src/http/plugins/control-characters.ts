import type { FastifyInstance } from 'fastify';
import { invalidField } from '../../errors.js';

// C0 controls (and DEL). PostgreSQL rejects NUL in text while SQLite stores it, so letting one through makes the
// backends disagree; the others have no place in names, identifiers or cursors and only hide text from people.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;
// Body text may span lines or hold a tab; each field's own format check (email, phone, URL, date) still applies.
// eslint-disable-next-line no-control-regex -- as above
const CONTROL_IN_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

function describe(char: string): string {
  return `U+${char.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * The dotted name of the first string in `value` (keys included) that holds a
 * character `pattern` matches, with that character; undefined when it is clean.
 */
function findControlCharacter(
  value: unknown,
  pattern: RegExp,
  path: string,
): { field: string; char: string } | undefined {
  if (typeof value === 'string') {
    const found = pattern.exec(value);
    return found ? { field: path, char: found[0] } : undefined;
  }
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findControlCharacter(item, pattern, `${path}.${index}`);
      if (found) return found;
    }
    return undefined;
  }
  if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      const field = path === '' ? key : `${path}.${key}`;
      const inKey = CONTROL.exec(key);
      if (inKey) return { field, char: inKey[0] };
      const found = findControlCharacter(item, pattern, field);
      if (found) return found;
    }
  }
  return undefined;
}

function reject(found: { field: string; char: string }) {
  return invalidField(found.field || 'body', `must not contain the control character ${describe(found.char)}`);
}

/**
 * Rejects control characters in every path parameter, query parameter and
 * body string with a 400 naming the field, before auth, validation or any
 * database call. Register it before the auth hook.
 */
export function registerControlCharacterCheck(app: FastifyInstance) {
  app.addHook('onRequest', async (request) => {
    const found = findControlCharacter(request.params, CONTROL, '') ?? findControlCharacter(request.query, CONTROL, '');
    if (found) throw reject(found);
  });
  app.addHook('preValidation', async (request) => {
    const found = findControlCharacter(request.body, CONTROL_IN_TEXT, '');
    if (found) throw reject(found);
  });
}
