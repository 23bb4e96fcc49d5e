import type { AuthorizationRequest, ConsentGrant } from '../../domain/oauth/authorization.js';
import { SCOPE_DESCRIPTIONS, type OidcScope } from '../../domain/oauth/scopes.js';
import type { Scope } from '../../domain/auth/token-service.js';
import { escapeHtml } from '../html.js';

/*
 * The pages of /authorize: plain HTML forms that work without JavaScript, one stylesheet served from our own origin
 * (the CSP allows no inline style or script), labelled fields and a visible focus ring.
 * URLs are relative to /authorize so the pages also work behind a path prefix.
 */

export const STYLESHEET = `:root {
  color-scheme: light;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  line-height: 1.5;
  color: #1b1f24;
  background: #f4f5f7;
}
body { margin: 0; }
main {
  box-sizing: border-box;
  max-width: 26rem;
  margin: 3rem auto;
  padding: 2rem;
  background: #fff;
  border: 1px solid #d0d4da;
  border-radius: 0.5rem;
}
h1 { font-size: 1.5rem; margin: 0 0 1rem; }
label { display: block; font-weight: 600; margin: 1rem 0 0.25rem; }
input[type="email"], input[type="password"] {
  box-sizing: border-box;
  width: 100%;
  padding: 0.6rem;
  font: inherit;
  border: 1px solid #6b7280;
  border-radius: 0.25rem;
}
button {
  font: inherit;
  font-weight: 600;
  margin-top: 1.5rem;
  margin-right: 0.5rem;
  padding: 0.6rem 1.2rem;
  border: 2px solid #1d4ed8;
  border-radius: 0.25rem;
  background: #1d4ed8;
  color: #fff;
  cursor: pointer;
}
button.secondary { background: #fff; color: #1d4ed8; }
:focus-visible { outline: 3px solid #b45309; outline-offset: 2px; }
.error {
  padding: 0.75rem;
  border-left: 4px solid #b91c1c;
  background: #fef2f2;
  color: #7f1d1d;
}
.fine { color: #4b5563; font-size: 0.9rem; }
ul { padding-left: 1.25rem; }
`;

const STYLESHEET_HREF = 'authorize/style.css';
const ICON_HREF = 'authorize/icon.svg';

/**
 * The pages' icon, served from our own origin (the CSP allows no data: images): without one, a browser asks for
 * /favicon.ico and logs the 404 as an error on the sign-in page.
 */
export const ICON =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1d4ed8"/></svg>';
const FORM_ACTION = 'authorize';

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} · Customers API</title>
<link rel="stylesheet" href="${STYLESHEET_HREF}">
<link rel="icon" href="${ICON_HREF}" type="image/svg+xml">
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

function hiddenFields(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join('\n');
}

function alert(id: string, message: string | undefined): string {
  return message === undefined ? '' : `<p class="error" id="${id}" role="alert">${escapeHtml(message)}</p>\n`;
}

export function renderSignInPage(input: {
  request: AuthorizationRequest;
  csrf: string;
  email?: string;
  error?: string;
}): string {
  const { request } = input;
  // After a wrong password the email is filled in again, so the cursor goes to the password.
  const described = input.error === undefined ? '' : ' aria-describedby="sign-in-error" aria-invalid="true"';
  return page(
    'Sign in',
    `<h1>Sign in</h1>
<p><strong>${escapeHtml(request.client.name)}</strong> asks you to sign in to the Customers API.</p>
${alert('sign-in-error', input.error)}<form method="post" action="${FORM_ACTION}">
${hiddenFields({ ...request.parameters, step: 'sign_in', csrf: input.csrf })}
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required maxlength="320"${input.email ? '' : ' autofocus'}${described} value="${escapeHtml(input.email ?? '')}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024"${input.email ? ' autofocus' : ''}${described}>
<button type="submit">Sign in</button>
</form>`,
  );
}

export function renderConsentPage(input: {
  request: AuthorizationRequest;
  grant: ConsentGrant;
  email: string;
  ticket: string;
  csrf: string;
}): string {
  const { request, grant } = input;
  const client = escapeHtml(request.client.name);
  const scopes = grant.scope
    .map(
      (scope) =>
        `<li>${escapeHtml(SCOPE_DESCRIPTIONS[scope as Scope | OidcScope] ?? scope)} <code>${escapeHtml(scope)}</code></li>`,
    )
    .join('\n');
  const organizations =
    grant.organizations.length === 0
      ? '<p>It gets access to no organization: you hold none that installed it.</p>'
      : `<p>For these organizations:</p>\n<ul>\n${grant.organizations.map((o) => `<li>${escapeHtml(o.name)}</li>`).join('\n')}\n</ul>`;
  return page(
    `Allow ${request.client.name}?`,
    `<h1>Allow ${client} to use your account?</h1>
<p>You are signed in as <strong>${escapeHtml(input.email)}</strong>. ${client} asks to:</p>
<ul>
${scopes}
</ul>
${organizations}
<form method="post" action="${FORM_ACTION}">
${hiddenFields({ ...request.parameters, step: 'consent', ticket: input.ticket, csrf: input.csrf })}
<button type="submit" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny" class="secondary">Deny</button>
</form>
<p class="fine">You will be sent back to ${escapeHtml(new URL(request.redirectUri).origin)}.</p>`,
  );
}

/** An error that must not be sent to the client's redirect URI (RFC 6749 4.1.2.1), or one of the page itself. */
export function renderErrorPage(title: string, message: string): string {
  return page(title, `<h1>${escapeHtml(title)}</h1>\n${alert('error', message)}`);
}
