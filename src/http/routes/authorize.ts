import { randomBytes, timingSafeEqual } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AuthorizationFormSchema, AuthorizationQuerySchema, htmlPage } from '../../contract/oauth.js';
import type { AuthorizationRequest } from '../../domain/oauth/authorization.js';
import { AppError } from '../../errors.js';
import type { Services } from '../../services.js';
import { formBodyOf, FormBodyError, parseQuery, registerFormBody } from '../form-body.js';
import { requestOrigin } from '../next-page.js';
import { OAUTH_PATHS } from './oauth.js';
import { ICON, renderConsentPage, renderErrorPage, renderSignInPage, STYLESHEET } from '../pages/authorize-pages.js';

const AUTHORIZE_PATH = OAUTH_PATHS.authorize;
export const AUTHORIZE_STYLESHEET_PATH = `${AUTHORIZE_PATH}/style.css`;
export const AUTHORIZE_ICON_PATH = `${AUTHORIZE_PATH}/icon.svg`;

const CSRF_COOKIE = 'authorize_csrf';
const CSRF_TOKEN = /^[A-Za-z0-9_-]{43}$/;

/**
 * No inline script or style, nothing but our stylesheet, never framed (clickjacking on the consent page). Forms go
 * to this origin, and the consent step's 303 goes on to the client: Chromium checks form-action on that redirect.
 */
function contentSecurityPolicy(redirectUri?: string): string {
  const formAction = redirectUri === undefined ? "'self'" : `'self' ${new URL(redirectUri).origin}`;
  return `default-src 'none'; style-src 'self'; img-src 'self'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`;
}

const PAGE_HEADERS = {
  'cache-control': 'no-store',
  pragma: 'no-cache',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
};

function readCookie(request: FastifyRequest, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** The double-submit CSRF token: the browser's cookie when it has a well-formed one, else a new one. */
function csrfToken(request: FastifyRequest, reply: FastifyReply, issuer: string): string {
  const existing = readCookie(request, CSRF_COOKIE);
  if (existing !== undefined && CSRF_TOKEN.test(existing)) return existing;
  const token = randomBytes(32).toString('base64url');
  const secure = issuer.startsWith('https:') ? '; Secure' : '';
  void reply.header('set-cookie', `${CSRF_COOKIE}=${token}; Path=${AUTHORIZE_PATH}; HttpOnly; SameSite=Lax${secure}`);
  return token;
}

/** The token when the form carries the same one as the cookie; a cross-site form cannot read the cookie. */
function verifiedCsrf(request: FastifyRequest, form: Readonly<Record<string, string>>): string | undefined {
  const cookie = readCookie(request, CSRF_COOKIE);
  const sent = form.csrf;
  if (cookie === undefined || sent === undefined || !CSRF_TOKEN.test(cookie) || !CSRF_TOKEN.test(sent))
    return undefined;
  return timingSafeEqual(Buffer.from(cookie), Buffer.from(sent)) ? cookie : undefined;
}

function sendPage(reply: FastifyReply, status: number, html: string, redirectUri?: string) {
  return reply
    .code(status)
    .header('content-security-policy', contentSecurityPolicy(redirectUri))
    .type('text/html; charset=utf-8')
    .send(html);
}

function sendSignInPage(
  request: FastifyRequest,
  reply: FastifyReply,
  issuer: string,
  authorization: AuthorizationRequest,
  status = 200,
  error?: { email?: string; message: string },
) {
  const csrf = csrfToken(request, reply, issuer);
  const html = renderSignInPage({ request: authorization, csrf, email: error?.email, error: error?.message });
  return sendPage(reply, status, html);
}

/** RFC 6749 4.1.2.1: shown when the client or redirect URI cannot be trusted, else sent back to the client. */
function sendUnusableRequest(
  reply: FastifyReply,
  result: { kind: 'fatal'; message: string } | { kind: 'redirect'; location: string },
) {
  if (result.kind === 'redirect') return reply.redirect(result.location, 303);
  return sendPage(reply, 400, renderErrorPage('Sign-in cannot continue', result.message));
}

const START_AGAIN = 'Go back to the application and start signing in again.';

/**
 * The authorization endpoint (RFC 6749 3.1): a sign-in form for operator users, then a consent form naming the
 * client and the scopes, then a 303 to the registered redirect URI with code, state and iss (RFC 9207). Every
 * answer is an HTML page; errors that cannot be trusted to the redirect URI are shown, never redirected.
 */
export const authorizeRoutes: FastifyPluginAsyncTypebox<{ services: Services; publicUrl: string | undefined }> = async (
  app,
  { services, publicUrl },
) => {
  const { authorization } = services.oauth;
  registerFormBody(app);
  app.addHook('onSend', async (_request, reply, payload) => {
    for (const [name, value] of Object.entries(PAGE_HEADERS))
      if (!reply.hasHeader(name)) void reply.header(name, value);
    if (!reply.hasHeader('content-security-policy'))
      void reply.header('content-security-policy', contentSecurityPolicy());
    return payload;
  });
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (services.store.isUnavailableError(error)) {
      void reply.header('retry-after', '1');
      return sendPage(
        reply,
        503,
        renderErrorPage('Try again shortly', 'The service is unavailable; retry in a moment.'),
      );
    }
    // The app-wide hooks (control characters, hosts) refuse with an AppError, which carries its status as `status`.
    const status = error instanceof AppError ? error.status : (error.statusCode ?? 500);
    if (error instanceof FormBodyError || error.validation || (status >= 400 && status < 500))
      return sendPage(
        reply,
        400,
        renderErrorPage('Sign-in cannot continue', `The request is malformed. ${START_AGAIN}`),
      );
    request.log.error({ err: error }, 'unhandled error on the authorization endpoint');
    return sendPage(reply, 500, renderErrorPage('Something went wrong', START_AGAIN));
  });

  /** The authorization request, by GET or (OpenID Connect Core 3.1.2.1) by POST. */
  async function startAuthorization(
    request: FastifyRequest,
    reply: FastifyReply,
    params: Readonly<Record<string, string>>,
  ) {
    const issuer = requestOrigin(request, publicUrl);
    const result = await authorization.validate(params, issuer);
    if (result.kind !== 'ok') return sendUnusableRequest(reply, result);
    return sendSignInPage(request, reply, issuer, result.request);
  }

  const responses = {
    200: htmlPage('The sign-in page, or the consent page after a successful sign-in.'),
    303: Type.Null({
      description: 'To the registered redirect URI with code, state and iss, or with error (RFC 6749 4.1.2).',
      headers: { location: { type: 'string', description: 'The redirect URI with the response parameters.' } },
    }),
    400: htmlPage('An unknown client, an unregistered redirect URI or a malformed request: shown, never redirected.'),
    403: htmlPage('The form’s CSRF token does not match the cookie.'),
    429: htmlPage('Too many failed sign-ins for the account or from the address; Retry-After says when to retry.'),
  };

  app.get(
    AUTHORIZE_PATH,
    {
      schema: {
        operationId: 'authorize',
        summary: 'Authorization endpoint: sign-in and consent pages (authorization code with PKCE S256)',
        tags: ['OAuth'],
        querystring: AuthorizationQuerySchema,
        response: responses,
      },
    },
    async (request, reply) => startAuthorization(request, reply, parseQuery(request)),
  );

  app.post(
    AUTHORIZE_PATH,
    {
      schema: {
        operationId: 'submitAuthorization',
        summary: 'The sign-in and consent forms of the authorization endpoint',
        tags: ['OAuth'],
        consumes: ['application/x-www-form-urlencoded'],
        body: AuthorizationFormSchema,
        response: responses,
      },
    },
    async (request, reply) => {
      const form = formBodyOf(request);
      if (form.step === undefined) return startAuthorization(request, reply, form);
      const issuer = requestOrigin(request, publicUrl);
      const csrf = verifiedCsrf(request, form);
      if (csrf === undefined)
        return sendPage(
          reply,
          403,
          renderErrorPage('This form has expired', `It was sent without this browser’s sign-in cookie. ${START_AGAIN}`),
        );
      if (form.step === 'sign_in') {
        const result = await authorization.signIn({
          params: form,
          email: form.email ?? '',
          password: form.password ?? '',
          address: request.ip,
          csrf,
          issuer,
        });
        switch (result.kind) {
          case 'fatal':
          case 'redirect':
            return sendUnusableRequest(reply, result);
          case 'invalid_credentials':
            return sendSignInPage(request, reply, issuer, result.request, 400, {
              email: form.email,
              message: 'The email or the password is wrong.',
            });
          case 'rate_limited': {
            const minutes = Math.ceil(result.retryAfterSeconds / 60);
            void reply.header('retry-after', String(result.retryAfterSeconds));
            return sendPage(
              reply,
              429,
              renderErrorPage(
                'Too many sign-in attempts',
                `Sign-in is paused for this account or this network after too many failed attempts. Try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`,
              ),
            );
          }
          case 'consent':
            return sendPage(
              reply,
              200,
              renderConsentPage({ ...result, email: result.user.email, csrf }),
              result.request.redirectUri,
            );
        }
      }
      if (form.step === 'consent' && (form.decision === 'allow' || form.decision === 'deny')) {
        const result = await authorization.consent({
          params: form,
          ticket: form.ticket ?? '',
          allow: form.decision === 'allow',
          csrf,
          issuer,
        });
        switch (result.kind) {
          case 'fatal':
          case 'redirect':
            return sendUnusableRequest(reply, result);
          case 'sign_in_again':
            return sendSignInPage(request, reply, issuer, result.request, 400, {
              message: 'Your sign-in has expired; sign in again.',
            });
        }
      }
      return sendPage(reply, 400, renderErrorPage('Sign-in cannot continue', `The form is incomplete. ${START_AGAIN}`));
    },
  );

  app.get(
    AUTHORIZE_STYLESHEET_PATH,
    {
      schema: {
        operationId: 'getAuthorizeStylesheet',
        summary: 'The stylesheet of the sign-in and consent pages',
        tags: ['OAuth'],
        response: { 200: { description: 'CSS', content: { 'text/css': { schema: { type: 'string' } } } } },
      },
    },
    async (_request, reply) =>
      reply.type('text/css; charset=utf-8').header('cache-control', 'public, max-age=3600').send(STYLESHEET),
  );

  app.get(
    AUTHORIZE_ICON_PATH,
    {
      schema: {
        operationId: 'getAuthorizeIcon',
        summary: 'The icon of the sign-in and consent pages',
        tags: ['OAuth'],
        response: { 200: { description: 'SVG', content: { 'image/svg+xml': { schema: { type: 'string' } } } } },
      },
    },
    async (_request, reply) => reply.type('image/svg+xml').header('cache-control', 'public, max-age=3600').send(ICON),
  );
};
