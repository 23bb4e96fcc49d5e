import { readFileSync } from 'node:fs';
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Config } from './config.js';
import { authPlugin } from './http/plugins/auth.js';
import { decodeJsonBody } from './http/json-body.js';
import { consistencyPlugin } from './http/plugins/consistency.js';
import { clientErrorHandler, httpServerOptions, registerConnectionGuards } from './http/plugins/connection-errors.js';
import { registerHostCheck } from './http/plugins/host-check.js';
import { registerControlCharacterCheck } from './http/plugins/control-characters.js';
import { registerUnreadBodyDiscard } from './http/plugins/unread-body.js';
import { registerListingCursors } from './http/next-page.js';
import { createServerLogger } from './http/logger.js';
import { declaredOrderSerializer } from './http/serializer.js';
import { formatsPlugin } from './http/schema-formats.js';
import { errorHandlerPlugin, sendError } from './http/plugins/error-handler.js';
import { createMetrics, metricsPlugin, type Metrics } from './http/plugins/metrics.js';
import { openApiPlugin } from './http/plugins/openapi.js';
import { rateLimitPlugin } from './http/plugins/rate-limit.js';
import { customerListRoutes } from './http/routes/customer-lists.js';
import { customerRoutes } from './http/routes/customers.js';
import { errorDocsRoutes } from './http/routes/error-docs.js';
import { eventRoutes } from './http/routes/events.js';
import { ledgerRoutes } from './http/routes/ledgers.js';
import { insightRoutes } from './http/routes/insights.js';
import { tokenInfoRoutes } from './http/routes/token-info.js';
import { importRoutes } from './http/routes/imports.js';
import { exportRoutes } from './http/routes/exports.js';
import { oauthRoutes } from './http/routes/oauth.js';
import { authorizeRoutes } from './http/routes/authorize.js';
import { locationRoutes } from './http/routes/locations.js';
import { paymentRoutes } from './http/routes/payments.js';
import { healthRoutes } from './http/routes/health.js';
import { organizationRoutes } from './http/routes/organizations.js';
import { webhookRoutes } from './http/routes/webhooks.js';
import { consoleRoutes } from './http/plugins/console.js';
import { ErrorSchema } from './contract/common.js';
import { OAuthErrorSchema } from './contract/oauth.js';
import {
  CustomerListTinySchema,
  CustomerSchema,
  CustomerStatisticsSchema,
  CustomerTinySchema,
} from './contract/customers.js';
import { CustomerListMemberSchema, CustomerListSchema, SegmentFilterSchema } from './contract/customer-lists.js';
import {
  CustomerDeletedEventSchema,
  CustomerEventSchema,
  CustomerListEventSchema,
  CustomerListMemberEventSchema,
  CustomerStatisticsEventSchema,
  FeedEventSchema,
} from './contract/events.js';
import { OrganizationSchema, OrganizationTinySchema } from './contract/organizations.js';
import { WebhookDeliverySchema, WebhookSchema } from './contract/webhooks.js';
import type { Services } from './services.js';
import { PointsEntrySchema } from './contract/ledgers.js';
import { InsightsSchema } from './contract/insights.js';
import { TokenInfoSchema } from './contract/token-info.js';
import { ImportJobSchema } from './contract/imports.js';
import { LocationSchema, LocationTinySchema } from './contract/locations.js';
import {
  PaymentEventSchema,
  PaymentItemChoiceSchema,
  PaymentItemOptionSchema,
  PaymentItemSchema,
  PaymentSchema,
} from './contract/payments.js';

const PACKAGE_VERSION = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface BuildAppOptions {
  config: Config;
  services: Services;
  logger?: FastifyServerOptions['logger'];
  /** The process's metrics, shared with the webhook dispatcher (server.ts); a fresh set when absent. */
  metrics?: Metrics;
  /** Where the built console is (default console/dist); tests point it elsewhere. */
  consoleDir?: string;
}

/** Builds the HTTP application; never listens (server.ts does). */
/** Fastify's form of TRUST_PROXY: a hop count becomes "trust the first N hops", as Fastify does for a number. */
function trustProxyOption(
  trust: Config['trustProxy'],
): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (trust === false) return false;
  if (typeof trust === 'number') return (_address, hop) => hop < trust;
  return [...trust];
}

export async function buildApp({
  config,
  services,
  logger,
  metrics: given,
  consoleDir,
}: BuildAppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    ...(logger === undefined ? { loggerInstance: createServerLogger(config.logLevel) } : { logger }),
    // One log line per request comes from registerRequestLogging instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // Request lines carry their own context (method, url, status, instance); a child logger per request would only add a reqId.
    childLoggerFactory: (logger) => logger,
    bodyLimit: config.bodyLimitBytes,
    // Only the configured proxies may say who the client is (X-Forwarded-For); by default the socket says it.
    trustProxy: trustProxyOption(config.trustProxy),
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.connectionIdleTimeoutMs,
    // Node's keep-alive timer replaces the idle one between requests; 72 s (Fastify's default) outlasts the
    // usual 60 s of load balancers, so they, not we, close idle pooled connections.
    keepAliveTimeout: Math.min(72_000, config.connectionIdleTimeoutMs),
    http: httpServerOptions(config),
    clientErrorHandler: clientErrorHandler(config.publicUrl),
    return503OnClosing: true,
    // Requests the router refuses before any route runs (a path segment over 100 characters, a malformed URL)
    // still get the error JSON.
    frameworkErrors: (error, request, reply) => {
      const message =
        error.code === 'FST_ERR_MAX_PARAM_LENGTH'
          ? 'A path segment is longer than 100 characters'
          : 'The URL is malformed';
      void sendError(request, reply, 'bad_request', message);
    },
    // Response keys in the contract's declared (LOKE's alphabetical) order.
    schemaController: { compilersFactory: { buildSerializer: declaredOrderSerializer() } },
    ajv: {
      customOptions: {
        // Unknown and read-only fields are errors, not silently dropped; types are never coerced.
        removeAdditional: false,
        coerceTypes: false,
        useDefaults: false,
        allErrors: true,
        keywords: ['x-extension'],
      },
      plugins: [formatsPlugin],
    },
  });

  for (const schema of [
    ErrorSchema,
    CustomerStatisticsSchema,
    CustomerSchema,
    CustomerTinySchema,
    CustomerListTinySchema,
    OrganizationSchema,
    OrganizationTinySchema,
    FeedEventSchema,
    CustomerEventSchema,
    CustomerStatisticsEventSchema,
    CustomerDeletedEventSchema,
    CustomerListEventSchema,
    CustomerListMemberEventSchema,
    SegmentFilterSchema,
    CustomerListSchema,
    CustomerListMemberSchema,
  ]) {
    app.addSchema(schema);
  }
  for (const schema of [WebhookSchema, WebhookDeliverySchema, LocationSchema, LocationTinySchema, OAuthErrorSchema])
    app.addSchema(schema);
  // The operator console's extensions.
  for (const schema of [PointsEntrySchema, InsightsSchema, ImportJobSchema, TokenInfoSchema]) app.addSchema(schema);
  // PaymentEvent documents the payload of payment.completed / payment.refunded webhooks.
  for (const schema of [
    PaymentItemChoiceSchema,
    PaymentItemOptionSchema,
    PaymentItemSchema,
    PaymentSchema,
    PaymentEventSchema,
  ])
    app.addSchema(schema);

  // Many clients send Content-Type: application/json on every request; an empty body then means no body (a DELETE,
  // a member PUT) rather than a parse error. Routes that need a body still reject its absence through their schema.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  // Only JSON bodies: Fastify's default text/plain parser would hand a string (what fetch sends for a string body)
  // to the route, whose schema then refuses it with a 400 instead of the 415 every other media type gets.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const text = decodeJsonBody(request.headers['content-type'], body as Buffer);
    if (text instanceof Error) {
      done(text, undefined);
      return;
    }
    if (text === '') {
      done(null, undefined);
      return;
    }
    void parseJson(request, text, done);
  });

  const metrics = given ?? createMetrics(services.store);
  await app.register(errorHandlerPlugin, { store: services.store, publicUrl: config.publicUrl });
  await app.register(metricsPlugin, { metrics });
  registerConnectionGuards(app, config.publicUrl);
  registerUnreadBodyDiscard(app);
  registerHostCheck(app, config);
  registerControlCharacterCheck(app);
  registerListingCursors(app);
  await app.register(authPlugin, {
    tokens: services.tokens,
    accessTokens: services.oauth.accessTokens,
    publicUrl: config.publicUrl,
  });
  await app.register(consistencyPlugin, { store: services.store });
  await app.register(openApiPlugin, { publicUrl: config.publicUrl, version: PACKAGE_VERSION });
  await app.register(rateLimitPlugin, { perMinute: config.rateLimitPerMinute });

  await app.register(healthRoutes, { store: services.store, metrics });
  await app.register(errorDocsRoutes);
  await app.register(organizationRoutes, { services, publicUrl: config.publicUrl });
  await app.register(tokenInfoRoutes);
  await app.register(customerRoutes, { services, publicUrl: config.publicUrl });
  await app.register(eventRoutes, { services, publicUrl: config.publicUrl });
  await app.register(customerListRoutes, { services, publicUrl: config.publicUrl });
  await app.register(ledgerRoutes, { services, publicUrl: config.publicUrl });
  await app.register(insightRoutes, { services });
  await app.register(importRoutes, { services, publicUrl: config.publicUrl, maxBytes: config.importMaxBytes });
  await app.register(exportRoutes, { services });
  await app.register(locationRoutes, { services, publicUrl: config.publicUrl });
  await app.register(paymentRoutes, { services, publicUrl: config.publicUrl });
  await app.register(webhookRoutes, { services, publicUrl: config.publicUrl });
  await app.register(oauthRoutes, { services, publicUrl: config.publicUrl });
  await app.register(authorizeRoutes, { services, publicUrl: config.publicUrl });
  await app.register(consoleRoutes, { dir: consoleDir });
  // Segment builds run beside the requests: unfinished ones are resumed once the app is ready, stopped on close.
  app.addHook('onReady', async () =>
    services.segmentBuilds.start((error) => app.log.error({ err: error }, 'segment build failed; it resumes later')),
  );
  app.addHook('onClose', async () => services.segmentBuilds.stop());
  return app;
}
