import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { notFound, unavailable } from '../../errors.js';

/** Where `npm run build:console` (part of `npm run build` and so of `npm ci`) writes the console; same depth from src/ and dist/. */
export const CONSOLE_DIST = fileURLToPath(new URL('../../../console/dist/', import.meta.url));
export const CONSOLE_PATH = '/console';

/**
 * Everything the console loads comes from this origin and is bundled: no inline script or style, no third party,
 * no framing (clickjacking), no <base> rewriting, forms post only here (the OAuth consent is ours).
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};
const COMPRESSIBLE = new Set(['.html', '.js', '.css', '.svg', '.json', '.map', '.txt']);

interface StaticFile {
  body: Buffer;
  gzip: Buffer | undefined;
  type: string;
  etag: string;
  immutable: boolean;
}

/** The built files, read and compressed once at startup: the whole console is a few hundred KB. */
function loadFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const walk = (folder: string) => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) {
        walk(path);
        continue;
      }
      const key = relative(dir, path).split(sep).join('/');
      const body = readFileSync(path);
      const extension = extname(name);
      files.set(key, {
        body,
        gzip: COMPRESSIBLE.has(extension) && body.length > 1024 ? gzipSync(body, { level: 9 }) : undefined,
        type: TYPES[extension] ?? 'application/octet-stream',
        etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
        // Vite names every asset after its content hash, so a name is never reused for other content.
        immutable: key.startsWith('assets/'),
      });
    }
  };
  walk(dir);
  return files;
}

function send(request: FastifyRequest, reply: FastifyReply, file: StaticFile) {
  void reply
    .header('content-type', file.type)
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
    .header('etag', file.etag)
    .header('vary', 'Accept-Encoding');
  if (request.headers['if-none-match'] === file.etag) return reply.code(304).send();
  if (file.gzip && /\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) {
    return reply.header('content-encoding', 'gzip').send(file.gzip);
  }
  return reply.send(file.body);
}

/**
 * The operator console (issue 17), a static single-page app served at /console: hashed assets for a year,
 * index.html revalidated on every load, and index.html for every other /console/ path so deep links work.
 * A server whose console was never built still starts; /console then says how to build it.
 */
export async function consoleRoutes(app: FastifyInstance, options: { dir?: string }) {
  const dir = options.dir ?? CONSOLE_DIST;
  const files = existsSync(join(dir, 'index.html')) ? loadFiles(dir) : undefined;
  const index = files?.get('index.html');

  const serve = (request: FastifyRequest, reply: FastifyReply, path: string) => {
    if (files === undefined || index === undefined)
      throw unavailable(
        'The console is not built: run `npm run build:console` (or `npm run build`), then restart the server',
      );
    const file = files.get(path);
    if (file !== undefined) return send(request, reply, file);
    // A missing script or stylesheet must fail as such, not load the page's HTML in its place.
    if (path.startsWith('assets/') || extname(path) !== '') throw notFound('Console file');
    return send(request, reply, index);
  };

  app.get(CONSOLE_PATH, { schema: { hide: true } }, async (_request, reply) => reply.redirect(`${CONSOLE_PATH}/`));
  app.get(`${CONSOLE_PATH}/*`, { schema: { hide: true } }, async (request, reply) =>
    serve(request, reply, (request.params as { '*': string })['*']),
  );
}
