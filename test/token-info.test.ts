import * as client from 'openid-client';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CustomersClient, CustomersApiError } from '../src/client/index.js';
import { describeEachBackend } from './helpers/backends.js';
import { expectErrorJson } from './helpers/fixtures.js';
import { createClientWithCli, discover } from './helpers/oauth.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** GET /token-info (extension): what the request's token grants, for a static token and an OAuth access token. */
await describeEachBackend('token info', (backend) => {
  let server: TestServer;
  let orgA: string;
  let orgB: string;
  beforeAll(async () => {
    server = await startTestServer(backend);
    orgA = (await server.createOrganization('Acme')).id;
    orgB = (await server.createOrganization('Bravo')).id;
  });
  afterAll(async () => server?.close());

  it('names the organizations and scopes of a static token, in the token’s and the catalogue’s order', async () => {
    const token = await server.createToken([orgB, orgA], ['webhooks:manage', 'customers:read']);
    const response = await server.request('GET', '/token-info', { token });
    expect(response.status).toBe(200);
    expect(response.text).toBe(
      JSON.stringify({ organizationIds: [orgB, orgA], scopes: ['customers:read', 'webhooks:manage'] }),
    );
    // Through the SDK, as the console asks.
    const sdk = new CustomersClient({ baseUrl: server.baseUrl, token });
    expect(await sdk.tokenInfo()).toEqual({
      organizationIds: [orgB, orgA],
      scopes: ['customers:read', 'webhooks:manage'],
    });
  });

  it('answers a token of any scope (one without customers:read too), and changes nothing', async () => {
    const token = await server.createToken([orgA], ['webhooks:manage']);
    const response = await server.request('GET', '/token-info', { token });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ organizationIds: [orgA], scopes: ['webhooks:manage'] });
    // The same token is still refused where its scope does not reach.
    expectErrorJson(await server.request('GET', `/organizations/${orgA}/customers`, { token }), 403);
  });

  it('is a 401 in our error JSON without a token, with an unknown one and with a revoked one', async () => {
    expectErrorJson(await server.request('GET', '/token-info'), 401);
    expectErrorJson(await server.request('GET', '/token-info', { token: 'cat_not-a-real-token' }), 401);
    const created = await server.services.tokens.createToken({ organizationIds: [orgA], scopes: ['customers:read'] });
    expect((await server.request('GET', '/token-info', { token: created.token })).status).toBe(200);
    await server.services.tokens.revokeToken(created.id);
    const revoked = await server.request('GET', '/token-info', { token: created.token });
    expectErrorJson(revoked, 401);
    const sdk = new CustomersClient({ baseUrl: server.baseUrl, token: created.token, retries: 0 });
    const error = await sdk.tokenInfo().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CustomersApiError);
    expect((error as CustomersApiError).status).toBe(401);
  });

  it('describes an OAuth access token (a JWT of client credentials) by its grant', async () => {
    const addOn = await createClientWithCli(server, [
      '--name',
      'Reader add-on',
      '--org',
      orgA,
      '--scopes',
      'customers:read,customers:write',
    ]);
    const config = await discover(server, addOn.client_id, client.ClientSecretBasic(addOn.client_secret));
    const { access_token } = await client.clientCredentialsGrant(config, { scope: 'customers:read' });
    const response = await server.request('GET', '/token-info', { token: access_token });
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ organizationIds: [orgA], scopes: ['customers:read'] });
  });
});
