import { Type } from '@sinclair/typebox';
import { ERROR_CATALOG, ERROR_DOCS_PATH, type ErrorCode } from '../errors.js';

const ERROR_CODES = Object.keys(ERROR_CATALOG) as ErrorCode[];

// LOKE's error body. Properties in the order they are sent.
export const ErrorSchema = Type.Object(
  {
    type: StringEnum(ERROR_CODES, { description: 'Stable error code from the catalog' }),
    message: Type.String({ description: 'What went wrong, for people; do not parse it.' }),
    instance: Type.String({ description: 'ULID of this occurrence; it is in the server log line of the request.' }),
    documentation: Type.String({
      format: 'uri',
      description: `Absolute URL of the code's entry in the error catalog page this server serves (${ERROR_DOCS_PATH}#<type>).`,
      examples: [`http://127.0.0.1:3000${ERROR_DOCS_PATH}#not_found`],
    }),
    details: Type.Optional(
      Type.Array(Type.Object({ field: Type.String(), message: Type.String() }), {
        description: 'For validation errors: which field, and why.',
      }),
    ),
    code: StringEnum(ERROR_CODES, { description: 'Alias of type, kept for clients of earlier versions.' }),
  },
  { $id: 'Error', title: 'Error' },
);

/** Response schemas for the error statuses a route can return, each pointing at the shared Error schema. */
export function errorResponses<S extends number>(...statuses: S[]): Record<S, typeof ErrorRef> {
  const responses = {} as Record<S, typeof ErrorRef>;
  for (const status of statuses) responses[status] = ErrorRef;
  return responses;
}

export const ErrorRef = Type.Ref(ErrorSchema);

export const AfterQuery = Type.Optional(
  Type.String({
    maxLength: 2048,
    description:
      'The cursor to use for pagination. Do not use this field manually it will be automatically provided in the response headers (see Paging guide).',
  }),
);

/** A regular expression of the decimal integers 1 to `max` without leading zeros, as the server reads `limit`. */
export function oneToPattern(max: number): string {
  const digits = String(max);
  const alternatives: string[] = [];
  // Shorter numbers than max: any, without a leading zero.
  if (digits.length > 1) alternatives.push(digits.length === 2 ? '[1-9]' : `[1-9][0-9]{0,${digits.length - 2}}`);
  // As many digits as max: a common prefix, then a smaller digit, then anything.
  for (let i = 0; i < digits.length; i++) {
    const digit = Number(digits[i]);
    const low = i === 0 ? 1 : 0;
    if (digit > low) {
      const range = digit - 1 === low ? String(low) : `[${low}-${digit - 1}]`;
      const rest = digits.length - i - 1;
      alternatives.push(`${digits.slice(0, i)}${range}${rest > 0 ? `[0-9]{${rest}}` : ''}`);
    }
  }
  alternatives.push(digits);
  return `^(${alternatives.join('|')})$`;
}

export function limitQuery(max: number) {
  return Type.Optional(
    Type.String({
      pattern: oneToPattern(max),
      description: `Extension: page size, 1..${max} (default ${max}).`,
      'x-extension': true,
    }),
  );
}

export const NextPageHeaders = {
  'X-Next-Page': Type.Optional(Type.String({ description: 'Absolute URL of the next page; absent on the last page.' })),
};

/** A string enum as plain JSON Schema `enum` (TypeBox unions of literals give anyOf noise in errors and docs). */
export function StringEnum<const T extends readonly string[]>(values: T, options: { description?: string } = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}
