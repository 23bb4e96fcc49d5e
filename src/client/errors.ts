/** One field-level problem of a validation error. */
export interface ErrorDetail {
  field: string;
  message: string;
}

/**
 * Every failure of a client call: an error response of the API (`status` is
 * the HTTP status, `type` the catalog code such as `not_found`, `code` the same
 * value, `documentation` the URL of its explanation), or a request
 * that never got a response (`status` 0, `code` `network_error` or `timeout`;
 * the original error is the `cause`). A call cancelled through its own
 * `AbortSignal` rejects with the signal's reason instead.
 *
 * @example
 * try {
 *   await client.customers.get(org, id);
 * } catch (error) {
 *   if (error instanceof CustomersApiError && error.type === 'not_found') return undefined;
 *   throw error;
 * }
 */
export class CustomersApiError extends Error {
  override readonly name = 'CustomersApiError';
  /** HTTP status, or 0 when no response arrived. */
  readonly status: number;
  /** Stable error code from the API's catalog (LOKE's `type`), or `network_error` / `timeout`. */
  readonly type: string;
  /** The same value as `type`. */
  readonly code: string;
  /** Absolute URL of the code's entry in the server's error catalog page; empty when no response arrived. */
  readonly documentation: string;
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
    type: string;
    message: string;
    instance?: string | undefined;
    documentation?: string | undefined;
    details?: ErrorDetail[] | undefined;
    retryAfter?: number | undefined;
    cause?: unknown;
  }) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.status = init.status;
    this.type = init.type;
    this.code = init.type;
    this.instance = init.instance ?? '';
    this.documentation = init.documentation ?? '';
    this.details = init.details;
    this.retryAfter = init.retryAfter;
  }
}

interface ErrorBody {
  type?: string;
  code?: string;
  message: string;
  instance?: string;
  documentation?: string;
  details?: ErrorDetail[];
}

/** LOKE's body carries `type`; servers of earlier versions sent only `code`. */
function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== 'object' || value === null) return false;
  const body = value as Record<string, unknown>;
  return (typeof body.type === 'string' || typeof body.code === 'string') && typeof body.message === 'string';
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
      type: body.type ?? body.code ?? 'unknown',
      message: body.message,
      instance: body.instance,
      documentation: body.documentation,
      details: body.details,
      retryAfter,
    });
  }
  return new CustomersApiError({
    status: response.status,
    type: `http_${response.status}`,
    message: `HTTP ${response.status}${text ? `: ${text.slice(0, 200)}` : ''}`,
    retryAfter,
  });
}
