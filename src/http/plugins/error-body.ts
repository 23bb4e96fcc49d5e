import { errorDocumentationUrl, type ErrorCode, type ErrorDetail } from '../../errors.js';

/** LOKE's error body, with `code` kept as an alias of `type` for clients of our earlier versions. */
export interface ErrorBody {
  type: ErrorCode;
  message: string;
  instance: string;
  documentation: string;
  details?: ErrorDetail[];
  code: ErrorCode;
}

export interface RenderErrorOptions {
  /** ULID of this occurrence; log it with the request. */
  instance: string;
  /** Public base URL (`PUBLIC_URL`, else the request's origin) the `documentation` link is built on. */
  baseUrl: string;
  details?: ErrorDetail[] | undefined;
}

/**
 * The one rendering of an error body, used by the route error handler and usable where no Fastify reply
 * exists (a clientErrorHandler writing to the raw socket): `JSON.stringify(renderErrorBody(...))`.
 */
export function renderErrorBody(code: ErrorCode, message: string, options: RenderErrorOptions): ErrorBody {
  const { instance, baseUrl, details } = options;
  const documentation = errorDocumentationUrl(baseUrl, code);
  return details && details.length > 0
    ? { type: code, message, instance, documentation, details, code }
    : { type: code, message, instance, documentation, code };
}
