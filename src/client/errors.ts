/** One field-level problem of a validation error. */
export interface ErrorDetail {
  field: string;
  message: string;
}

/**
 * Every failure of a client call: an error response of the API (`status` is
 * the HTTP status, `code` the catalog code such as `not_found`), or a request
 * that never got a response (`status` 0, `code` `network_error` or `timeout`;
 * the original error is the `cause`). A call cancelled through its own
 * `AbortSignal` rejects with the signal's reason instead.
 *
 * @example
 * try {
 *   await client.customers.get(org, id);
 * } catch (error) {
 *   if (error instanceof CustomersApiError && error.code === 'not_found') return undefined;
 *   throw error;
 * }
 */
export class CustomersApiError extends Error {
  override readonly name = 'CustomersApiError';
  /** HTTP status, or 0 when no response arrived. */
  readonly status: number;
  /** Stable error code from the API's catalog, or `network_error` / `timeout`. */
  readonly code: string;
  /** ULID of this occurrence in the server's log; quote it to support. Empty when no response arrived. */
  readonly instance: string;
  /** For validation errors: which field, and why. */
  readonly details: ErrorDetail[] | undefined;
  /** Seconds the server asked to wait (Retry-After), when it did. */
  readonly retryAfter: number | undefined;
  /** How many times the request was sent (more than 1 after retries). */
  attempts = 1;

  constructor(init: {
    status: number;
    code: string;
    message: string;
    instance?: string;
    details?: ErrorDetail[] | undefined;
    retryAfter?: number | undefined;
    cause?: unknown;
  }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.code = init.code;
    this.instance = init.instance ?? '';
    this.details = init.details;
    this.retryAfter = init.retryAfter;
  }
}

function isErrorBody(
  value: unknown,
): value is { code: string; message: string; instance?: string; details?: ErrorDetail[] } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { code?: unknown }).code === 'string' &&
    typeof (value as { message?: unknown }).message === 'string'
  );
}

/** Builds the error of a non-2xx response; bodies that are not our error JSON (a proxy's HTML) still give a useful error. */
export async function errorFromResponse(
  response: Response,
  retryAfter: number | undefined,
): Promise<CustomersApiError> {
  const text = await response.text().catch(() => '');
  let body: unknown;
  try {
    body = text === '' ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (isErrorBody(body)) {
    return new CustomersApiError({
      status: response.status,
      code: body.code,
      message: body.message,
      instance: body.instance,
      details: body.details,
      retryAfter,
    });
  }
  return new CustomersApiError({
    status: response.status,
    code: `http_${response.status}`,
    message: `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
    retryAfter,
  });
}
