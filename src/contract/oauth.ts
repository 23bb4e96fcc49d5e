import { Type, type Static } from '@sinclair/typebox';

export const OAuthErrorSchema = Type.Object(
  {
    error: Type.String({ description: 'RFC 6749 section 5.2 error code, e.g. invalid_client' }),
    error_description: Type.Optional(Type.String()),
  },
  { $id: 'OAuthError', title: 'OAuthError', description: 'An OAuth 2.0 error (RFC 6749 section 5.2).' },
);
export type OAuthErrorBody = Static<typeof OAuthErrorSchema>;
export const OAuthErrorRef = Type.Ref(OAuthErrorSchema);

export const TokenResponseSchema = Type.Object(
  {
    access_token: Type.String({ description: 'A JWT (RFC 9068) signed by a key of the JWKS.' }),
    token_type: Type.Literal('Bearer'),
    expires_in: Type.Integer({ description: 'Seconds until the access token expires (ACCESS_TOKEN_TTL_SECONDS).' }),
    scope: Type.String({ description: 'Space-separated granted scopes.' }),
    refresh_token: Type.Optional(
      Type.String({ description: 'With offline_access (or offline): single use, rotated on every refresh.' }),
    ),
    id_token: Type.Optional(Type.String({ description: 'With openid: the OpenID Connect ID token.' })),
  },
  { title: 'TokenResponse' },
);

const FormString = Type.String({ maxLength: 4096 });

export const TokenRequestSchema = Type.Object(
  {
    grant_type: Type.Optional(
      Type.String({ description: 'client_credentials, authorization_code or refresh_token', maxLength: 64 }),
    ),
    scope: Type.Optional(Type.String({ description: 'Space-separated scopes', maxLength: 1000 })),
    code: Type.Optional(FormString),
    redirect_uri: Type.Optional(FormString),
    code_verifier: Type.Optional(Type.String({ description: 'PKCE verifier (RFC 7636)', maxLength: 128 })),
    refresh_token: Type.Optional(FormString),
    client_id: Type.Optional(Type.String({ maxLength: 256 })),
    client_secret: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: true },
);

export const RevocationRequestSchema = Type.Object(
  {
    token: Type.Optional(FormString),
    token_type_hint: Type.Optional(Type.String({ maxLength: 64 })),
    client_id: Type.Optional(Type.String({ maxLength: 256 })),
    client_secret: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: true },
);

export const DiscoverySchema = Type.Object(
  {
    issuer: Type.String(),
    authorization_endpoint: Type.String(),
    token_endpoint: Type.String(),
    jwks_uri: Type.String(),
    revocation_endpoint: Type.String(),
    response_types_supported: Type.Array(Type.String()),
    response_modes_supported: Type.Array(Type.String()),
    grant_types_supported: Type.Array(Type.String()),
    subject_types_supported: Type.Array(Type.String()),
    id_token_signing_alg_values_supported: Type.Array(Type.String()),
    scopes_supported: Type.Array(Type.String()),
    claims_supported: Type.Array(Type.String()),
    token_endpoint_auth_methods_supported: Type.Array(Type.String()),
    revocation_endpoint_auth_methods_supported: Type.Array(Type.String()),
    code_challenge_methods_supported: Type.Array(Type.String()),
    authorization_response_iss_parameter_supported: Type.Boolean(),
  },
  { title: 'OpenIDConfiguration', description: 'OpenID Connect Discovery 1.0 provider metadata.' },
);

export const JwksSchema = Type.Object(
  {
    keys: Type.Array(
      Type.Object(
        {
          kty: Type.String(),
          kid: Type.String(),
          alg: Type.String(),
          use: Type.String(),
          crv: Type.Optional(Type.String()),
          x: Type.Optional(Type.String()),
          y: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { title: 'JWKS', description: 'The public signing keys (RFC 7517); never a private part.' },
);

/** The authorization request (RFC 6749 4.1.1, RFC 7636 4.3, OpenID Connect Core 3.1.2.1); lengths are checked by the endpoint. */
const AuthorizationRequestProperties = {
  response_type: Type.Optional(Type.String({ description: 'Must be code.' })),
  client_id: Type.Optional(Type.String()),
  redirect_uri: Type.Optional(Type.String({ description: 'One of the client’s registered redirect URIs, exactly.' })),
  scope: Type.Optional(
    Type.String({ description: 'Space-separated; openid, offline_access (or offline), API scopes.' }),
  ),
  state: Type.Optional(Type.String({ description: 'Returned unchanged with the code.' })),
  nonce: Type.Optional(Type.String({ description: 'Copied into the ID token.' })),
  code_challenge: Type.Optional(Type.String({ description: 'PKCE: base64url SHA-256 of the code verifier.' })),
  code_challenge_method: Type.Optional(Type.String({ description: 'Must be S256.' })),
  prompt: Type.Optional(Type.String({ description: 'prompt=none is answered with error=login_required.' })),
};

export const AuthorizationQuerySchema = Type.Object(AuthorizationRequestProperties, { additionalProperties: true });

export const AuthorizationFormSchema = Type.Object(
  {
    ...AuthorizationRequestProperties,
    step: Type.Optional(Type.String({ description: 'sign_in or consent; absent for an authorization request.' })),
    csrf: Type.Optional(Type.String({ description: 'The CSRF token of the page (double-submit cookie).' })),
    email: Type.Optional(Type.String()),
    password: Type.Optional(Type.String()),
    ticket: Type.Optional(Type.String({ description: 'Consent step: proof of the sign-in step.' })),
    decision: Type.Optional(Type.String({ description: 'Consent step: allow or deny.' })),
  },
  { additionalProperties: true },
);

/** A response that is an HTML page, for the browser-facing /authorize. */
export function htmlPage(description: string) {
  return { description, content: { 'text/html': { schema: Type.String() } } };
}
