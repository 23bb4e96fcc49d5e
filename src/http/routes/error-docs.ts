import type { FastifyPluginAsync } from 'fastify';
import { ERROR_CATALOG, ERROR_DOCS_PATH, type ErrorCode } from '../../errors.js';
import { escapeHtml } from '../html.js';

/** The error catalog as a page with one anchor per code: the `documentation` URL of every error body points here. */
export function renderErrorCatalogPage(): string {
  const entries = (Object.keys(ERROR_CATALOG) as ErrorCode[]).map((code) => {
    const { status, description } = ERROR_CATALOG[code];
    return (
      `<section id="${code}"><h2><code>${code}</code> <small>HTTP ${status}</small></h2>` +
      `<p>${escapeHtml(description)}</p></section>`
    );
  });
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Customers API errors</title></head>
<body>
<h1>Customers API errors</h1>
<p>Every error response is JSON: <code>{"type", "message", "instance", "documentation"}</code>, plus
<code>details</code> (field and message) for validation errors. <code>type</code> is one of the codes below
(<code>code</code> repeats it, for earlier clients); <code>instance</code> identifies the occurrence in the server log;
<code>documentation</code> links to the code's entry on this page.</p>
${entries.join('\n')}
</body>
</html>
`;
}

export const errorDocsRoutes: FastifyPluginAsync = async (app) => {
  const page = renderErrorCatalogPage();
  app.get(ERROR_DOCS_PATH, { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(page),
  );
};
