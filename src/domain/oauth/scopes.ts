import { SCOPES, type Scope } from '../auth/token-service.js';

/** OpenID Connect scopes; `offline` is LOKE's spelling of `offline_access`. */
export const OIDC_SCOPES = ['openid', 'offline_access', 'offline', 'email'] as const;
export type OidcScope = (typeof OIDC_SCOPES)[number];
export const SUPPORTED_SCOPES: readonly string[] = [...OIDC_SCOPES, ...SCOPES];

export interface RequestedScopes {
  api: Scope[];
  oidc: OidcScope[];
}

/** RFC 6749 3.3: space-delimited scope tokens; undefined when a token is not one we know. */
export function parseScopeParameter(raw: string): RequestedScopes | { unknown: string } {
  const api: Scope[] = [];
  const oidc: OidcScope[] = [];
  for (const part of raw.split(' ')) {
    if (part === '') continue;
    if ((SCOPES as readonly string[]).includes(part)) {
      if (!api.includes(part as Scope)) api.push(part as Scope);
    } else if ((OIDC_SCOPES as readonly string[]).includes(part)) {
      if (!oidc.includes(part as OidcScope)) oidc.push(part as OidcScope);
    } else {
      return { unknown: part.slice(0, 64) };
    }
  }
  return { api, oidc };
}

export function wantsRefreshToken(scope: readonly string[]): boolean {
  return scope.includes('offline_access') || scope.includes('offline');
}

/** Human descriptions for the consent page. */
export const SCOPE_DESCRIPTIONS: Record<Scope | OidcScope, string> = {
  openid: 'Know who you are (your user id)',
  email: 'See your email address',
  offline_access: 'Stay signed in (refresh its access without asking you again)',
  offline: 'Stay signed in (refresh its access without asking you again)',
  'customers:read': 'Read customers, customer lists and events',
  'customers:write': 'Create, change and delete customers, lists and points',
  'webhooks:manage': 'Manage webhook subscriptions',
};
