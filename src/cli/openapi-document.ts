import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { createServices } from '../services.js';
import { openStore } from '../store/open-store.js';

/**
 * The OpenAPI document as `GET /openapi.json` serves it with the default
 * configuration, built without a database connection being used or a port
 * being opened, for `npm run openapi` and the up-to-date test.
 */
export async function generateOpenApiDocument(): Promise<Record<string, unknown>> {
  const config = loadConfig({ LOG_LEVEL: 'silent', DATABASE_URL: 'sqlite::memory:' });
  const store = await openStore(config.database);
  try {
    const app = await buildApp({ config, services: createServices(store, config) });
    try {
      await app.ready();
      // Through JSON, as clients see it (the live object still carries TypeBox symbols).
      return JSON.parse(JSON.stringify(app.swagger())) as Record<string, unknown>;
    } finally {
      await app.close();
    }
  } finally {
    await store.close();
  }
}

/** Stable text for the committed file: two-space JSON with a trailing newline. */
export function formatOpenApiDocument(document: unknown): string {
  return `${JSON.stringify(document, null, 2)}\n`;
}
