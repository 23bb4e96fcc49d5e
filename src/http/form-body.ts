import type { FastifyInstance, FastifyRequest } from 'fastify';

/** OAuth requests are small; anything near this is an attack or a mistake. */
export const FORM_BODY_LIMIT_BYTES = 16 * 1024;
const MAX_PARAMETERS = 64;
/** Controls have no business in any OAuth parameter; rejecting them keeps them out of logs and pages too. */
function hasControlCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

export class FormBodyError extends Error {
  override readonly name = 'FormBodyError';
}

export type FormBody = Readonly<Record<string, string>>;

/**
 * `application/x-www-form-urlencoded` as RFC 6749 3.2 wants it read: UTF-8, and no parameter more than once.
 * Returns an object with own properties only, so a `__proto__` parameter is just a parameter.
 */
export function parseFormBody(text: string): FormBody {
  const entries: [string, string][] = [];
  const seen = new Set<string>();
  for (const part of text.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    let name: string;
    let value: string;
    try {
      name = decodeURIComponent((eq < 0 ? part : part.slice(0, eq)).replaceAll('+', ' '));
      value = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1).replaceAll('+', ' '));
    } catch {
      throw new FormBodyError('The form body is not valid percent-encoded UTF-8');
    }
    if (seen.has(name)) throw new FormBodyError(`Parameter ${name.slice(0, 64)} is repeated`);
    if (hasControlCharacter(name) || hasControlCharacter(value))
      throw new FormBodyError(`Parameter ${name.slice(0, 64)} contains control characters`);
    seen.add(name);
    entries.push([name, value]);
    if (entries.length > MAX_PARAMETERS) throw new FormBodyError('The form has too many parameters');
  }
  return Object.fromEntries(entries) as FormBody;
}

/** The query string read with the same rules as a form body. */
export function parseQuery(request: FastifyRequest): FormBody {
  const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : '';
  return parseFormBody(query);
}

function isFormRequest(request: FastifyRequest): boolean {
  const type = request.headers['content-type'];
  return type !== undefined && /^application\/x-www-form-urlencoded\s*(;|$)/i.test(type);
}

/**
 * Registers the form parser in this plugin's scope only (every other route still takes JSON only), and makes the
 * scope's POST routes take nothing else: RFC 6749 3.2 parameters are form-encoded, a JSON body is an error.
 */
export function registerFormBody(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    if (request.method === 'POST' && request.body !== undefined && !isFormRequest(request))
      throw new FormBodyError('Send the parameters as application/x-www-form-urlencoded');
  });
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_BODY_LIMIT_BYTES },
    (_request, body, done) => {
      try {
        done(null, parseFormBody(body as string));
      } catch (error) {
        done(error as Error, undefined);
      }
    },
  );
}

export function formBodyOf(request: FastifyRequest): FormBody {
  const body = request.body;
  return body !== null && typeof body === 'object' ? (body as FormBody) : {};
}
