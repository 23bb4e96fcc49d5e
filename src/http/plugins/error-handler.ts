import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AppError, ERROR_CATALOG, type ErrorCode, type ErrorDetail } from '../../errors.js';
import { newId } from '../../domain/ids.js';
import type { Store } from '../../store/store.js';
import { requestOrigin } from '../next-page.js';
import { FORMAT_MESSAGES } from '../../domain/formats.js';
import { renderErrorBody } from './error-body.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** ULID of the error this request ended with, logged with the request line. */
    errorInstance: string | undefined;
  }
  interface FastifyInstance {
    /** `PUBLIC_URL` when configured: the base of absolute URLs the server sends (X-Next-Page, error documentation). */
    publicUrl: string | undefined;
  }
}

interface ValidationIssue {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

function validationDetails(error: FastifyError): ErrorDetail[] {
  const context = error.validationContext ?? 'body';
  const seen = new Set<string>();
  return (error.validation as ValidationIssue[]).flatMap((issue) => {
    let field = issue.instancePath.replace(/^\//, '').replaceAll('/', '.');
    let message = issue.message ?? 'is invalid';
    if (issue.keyword === 'required') {
      field = [field, String(issue.params.missingProperty)].filter(Boolean).join('.');
      message = 'is required';
    } else if (issue.keyword === 'additionalProperties') {
      field = [field, String(issue.params.additionalProperty)].filter(Boolean).join('.');
      message = context === 'body' ? 'is not a field of this resource (or is read-only)' : 'is not a known parameter';
    }
    if (issue.keyword === 'format') message = FORMAT_MESSAGES[String(issue.params.format)] ?? message;
    if (issue.keyword === 'not') message = 'is not allowed';
    if (issue.keyword === 'enum') message = `must be one of ${(issue.params.allowedValues as string[]).join(', ')}`;
    field ||= context;
    if (seen.has(field)) return [];
    seen.add(field);
    return [{ field, message }];
  });
}

function statusToCode(status: number): ErrorCode {
  const found = (Object.keys(ERROR_CATALOG) as ErrorCode[]).find((code) => ERROR_CATALOG[code].status === status);
  return found ?? (status >= 500 ? 'internal' : 'bad_request');
}

export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  code: ErrorCode,
  message: string,
  details?: ErrorDetail[],
  headers?: Record<string, string>,
) {
  const instance = newId();
  request.errorInstance = instance;
  if (headers) void reply.headers(headers);
  const body = renderErrorBody(code, message, {
    instance,
    baseUrl: requestOrigin(request, request.server.publicUrl),
    details,
  });
  return reply.code(ERROR_CATALOG[code].status).type('application/json; charset=utf-8').send(body);
}

/** One place that turns every failure into LOKE's `{type, message, instance, documentation}` with the right status. */
export function registerErrorHandler(app: FastifyInstance, store: Store, publicUrl: string | undefined) {
  app.decorateRequest('errorInstance', undefined);
  app.decorate('publicUrl', publicUrl);

  app.setNotFoundHandler((request, reply) =>
    sendError(request, reply, 'not_found', `No route for ${request.method} ${request.url.split('?')[0]}`),
  );

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof AppError) {
      return sendError(request, reply, error.code, error.message, error.details, error.headers);
    }
    if (error.validation) {
      const details = validationDetails(error);
      return sendError(request, reply, 'bad_request', `Invalid ${details.map((d) => d.field).join(', ')}`, details);
    }
    if (store.isUnavailableError(error)) {
      request.log.warn({ err: error }, 'database unavailable');
      return sendError(request, reply, 'unavailable', 'The database is unavailable; retry later', undefined, {
        'retry-after': '1',
      });
    }
    switch (error.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendError(request, reply, 'payload_too_large', 'The request body exceeds 1 MiB');
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendError(request, reply, 'unsupported_media_type', 'Send the body as application/json');
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendError(request, reply, 'bad_request', 'The JSON body is empty');
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
        return sendError(request, reply, 'bad_request', 'The body is not valid JSON');
    }
    const status = error.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      // Fastify's own client errors (bad JSON, bad headers): safe to show their message.
      return sendError(request, reply, statusToCode(status), error.message);
    }
    const result = sendError(request, reply, 'internal', 'An internal error occurred; quote the instance to support');
    request.log.error({ err: error, instance: request.errorInstance }, 'unhandled error');
    return result;
  });
}

export const ERROR_HANDLER_PLUGIN = 'customers-api-error-handler';

export const errorHandlerPlugin = fp<{ store: Store; publicUrl: string | undefined }>(
  async (app, { store, publicUrl }) => registerErrorHandler(app, store, publicUrl),
  { name: ERROR_HANDLER_PLUGIN, fastify: '5.x' },
);
