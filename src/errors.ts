/**
 * The error catalog: every error the API returns has one of these stable codes.
 * `test/error-catalog.test.ts` keeps this table and the README in sync.
 */
export const ERROR_CATALOG = {
  bad_request: { status: 400, description: 'The request is malformed or a field is invalid.' },
  unauthorized: { status: 401, description: 'No bearer token, or one that is unknown or revoked.' },
  forbidden: { status: 403, description: 'The token lacks the scope this operation needs.' },
  not_found: { status: 404, description: 'No such resource, or one the token does not grant.' },
  conflict: { status: 409, description: 'The request conflicts with the current state.' },
  duplicate_point_record: { status: 409, description: 'A points adjustment with this reference exists.' },
  insufficient_points: { status: 409, description: 'The redemption exceeds the points balance.' },
  segment_membership: {
    status: 409,
    description: "A segment's members follow its filter; they cannot be added or removed by hand.",
  },
  request_timeout: { status: 408, description: 'The request was not received within REQUEST_TIMEOUT_MS.' },
  precondition_failed: { status: 412, description: 'If-Match does not match the current ETag.' },
  payload_too_large: { status: 413, description: 'The request body exceeds 1 MiB.' },
  unsupported_media_type: { status: 415, description: 'The request body is not application/json.' },
  expectation_failed: { status: 417, description: 'An Expect header other than 100-continue.' },
  rate_limited: { status: 429, description: 'Too many requests; retry after Retry-After seconds.' },
  header_too_large: { status: 431, description: 'The request line and headers exceed 16 KiB.' },
  internal: { status: 500, description: 'An unexpected error; quote the instance to support.' },
  unavailable: { status: 503, description: 'The database is unreachable; retry later.' },
} as const satisfies Record<string, { status: number; description: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** The page, served by the API itself, with one anchored entry per code; each error body links to its entry. */
export const ERROR_DOCS_PATH = '/docs/errors';

/** `documentation` of an error body: the absolute URL of the code's entry (`https://host/docs/errors#not_found`). */
export function errorDocumentationUrl(baseUrl: string, code: ErrorCode): string {
  return `${baseUrl}${ERROR_DOCS_PATH}#${code}`;
}

export interface ErrorDetail {
  field: string;
  message: string;
}

export class AppError extends Error {
  override readonly name = 'AppError';
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    readonly headers?: Record<string, string>,
  ) {
    super(message);
    this.status = ERROR_CATALOG[code].status;
  }
}

export const badRequest = (message: string, details?: ErrorDetail[]) => new AppError('bad_request', message, details);
export const invalidField = (field: string, message: string) =>
  new AppError('bad_request', `${field}: ${message}`, [{ field, message }]);
export const unauthorized = (message = 'A valid bearer token is required') => new AppError('unauthorized', message);
export const forbidden = (scope: string) => new AppError('forbidden', `This token lacks the ${scope} scope`);
export const notFound = (what: string) => new AppError('not_found', `${what} not found`);
export const conflict = (message: string) => new AppError('conflict', message);
export const segmentMembership = (listId: string) =>
  new AppError(
    'segment_membership',
    `Customer list ${listId} is a segment: its members are the customers matching its filter; change the filter (PUT) or the customer instead`,
  );
export const insufficientPoints = (balance: number) =>
  new AppError('insufficient_points', `The points balance (${balance}) is too low for this adjustment`);
export const duplicatePointRecord = (reference: string) =>
  new AppError('duplicate_point_record', `A points adjustment with reference "${reference}" exists for this customer`);
export const fileTooLarge = (maxBytes: number) =>
  new AppError('payload_too_large', `The file exceeds the import limit of ${maxBytes} bytes (IMPORT_MAX_BYTES)`);
export const preconditionFailed = (message = 'If-Match does not match the current ETag') =>
  new AppError('precondition_failed', message);
export const rateLimited = (perMinute: number, retryAfterSeconds: number) =>
  new AppError(
    'rate_limited',
    `Rate limit of ${perMinute} requests a minute exceeded; retry after ${retryAfterSeconds} s`,
    undefined,
    { 'retry-after': String(retryAfterSeconds) },
  );
export const unsupportedMediaType = (message: string) => new AppError('unsupported_media_type', message);
export const unavailable = (message = 'The database is unavailable; retry later') =>
  new AppError('unavailable', message, undefined, { 'retry-after': '1' });
