import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { Link, Route, Router, Switch, useLocation } from 'wouter-preact';
import type { Organization } from '../../src/client/index.js';
import { Console, useConsole, type ConsoleContext } from './context.js';
import { Api } from './lib/api.js';
import {
  loadSession,
  preferredOrganizationId,
  rememberOrganization,
  saveSession,
  scopesOfJwt,
  type Session,
} from './lib/session.js';
import { ErrorPanel, Loading } from './components/status.js';
import { SignIn, Callback } from './screens/sign-in.js';
import { Overview } from './screens/overview.js';
import { Customers, prefetchCustomers } from './screens/customers.js';
import { CustomerPage } from './screens/customer.js';
import { Lists, ListPage } from './screens/lists.js';
import { Webhooks } from './screens/webhooks.js';
import { DataTransfer } from './screens/data.js';

export function App() {
  const [session, setSession] = useState<Session | undefined>(loadSession);
  const update = (next: Session | undefined) => {
    saveSession(next);
    setSession(next);
  };
  return (
    <Router base="/console">
      <Switch>
        <Route path="/callback">
          <Callback onSignedIn={update} />
        </Route>
        <Route>{session ? <SignedIn session={session} update={update} /> : <SignIn onSignedIn={update} />}</Route>
      </Switch>
    </Router>
  );
}

type Loaded =
  | { status: 'loading' }
  | { status: 'error'; error: unknown }
  | { status: 'ready'; organizations: Organization[] };

function SignedIn({ session, update }: { session: Session; update: (session: Session | undefined) => void }) {
  const api = useMemo(() => new Api(session.token), [session.token]);
  const [loaded, setLoaded] = useState<Loaded>({ status: 'loading' });
  const [location, navigate] = useLocation();
  const signOut = () => {
    update(undefined);
    navigate('/');
  };

  useEffect(() => {
    // When the tab already knows its organization, the screen's first requests need not wait for the list of them:
    // they go out alongside it, and the screen takes their answers (or errors) when it renders for that organization.
    const known = preferredOrganizationId(session);
    if (known !== undefined && location === '/customers') prefetchCustomers(api, known, window.location.search);
    let live = true;
    api.client.organizations
      .list()
      .toArray()
      .then(
        (organizations) => live && setLoaded({ status: 'ready', organizations }),
        (error: unknown) => live && setLoaded({ status: 'error', error }),
      );
    return () => {
      live = false;
    };
  }, [api]);

  const organizations = loaded.status === 'ready' ? loaded.organizations : [];
  const preferred = preferredOrganizationId(session);
  const organization = organizations.find((o) => o.id === preferred) ?? organizations[0];
  useEffect(() => {
    if (organization !== undefined) rememberOrganization(organization.id);
  }, [organization?.id]);

  // A pasted token says nothing about its scopes: ask the server once (GET /token-info). Until it answers, or if it
  // cannot, the console shows no edit buttons.
  useEffect(() => {
    if (organization === undefined || session.scopes !== undefined) return;
    const fromJwt = scopesOfJwt(session.token);
    if (fromJwt) return update({ ...session, scopes: fromJwt });
    void api.client.tokenInfo().then(
      ({ scopes }) => update({ ...session, scopes }),
      () => undefined,
    );
  }, [organization?.id, session.scopes]);

  if (loaded.status === 'loading') return <Loading label="Signing in…" />;
  if (loaded.status === 'error')
    return (
      <main class="centered">
        <h1>customers-api console</h1>
        <ErrorPanel error={loaded.error} />
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </main>
    );
  if (organization === undefined)
    return (
      <main class="centered">
        <h1>customers-api console</h1>
        <p>
          This token grants no organization. Create one with <code>customers-api org create</code>.
        </p>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </main>
    );

  const context: ConsoleContext = {
    session,
    api,
    organization,
    organizations,
    canWrite: session.scopes?.includes('customers:write') ?? false,
    canManageWebhooks: session.scopes?.includes('webhooks:manage') ?? false,
    selectOrganization: (id) => update({ ...session, organizationId: id }),
    signOut,
  };
  return (
    <Console.Provider value={context}>
      <Shell>
        <Switch>
          <Route path="/">
            <Overview />
          </Route>
          <Route path="/customers">
            <Customers />
          </Route>
          <Route path="/customers/:id">{(params: { id: string }) => <CustomerPage id={params.id} />}</Route>
          <Route path="/lists">
            <Lists />
          </Route>
          <Route path="/lists/:id">{(params: { id: string }) => <ListPage id={params.id} />}</Route>
          <Route path="/webhooks">
            <Webhooks />
          </Route>
          <Route path="/data">
            <DataTransfer />
          </Route>
          <Route>
            <main id="main">
              <h1>Not found</h1>
              <p>
                There is no such page. <Link href="/">Go to the overview</Link>.
              </p>
            </main>
          </Route>
        </Switch>
      </Shell>
    </Console.Provider>
  );
}

const NAV = [
  ['/', 'Overview'],
  ['/customers', 'Customers'],
  ['/lists', 'Lists & segments'],
  ['/webhooks', 'Webhooks'],
  ['/data', 'Import & export'],
] as const;

function Shell({ children }: { children: ComponentChildren }) {
  const [location] = useLocation();
  const { organization, organizations, selectOrganization, signOut, session } = useConsole();
  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <span class="brand">customers-api</span>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([href, label]) => {
              const current = href === '/' ? location === '/' : location.startsWith(href);
              return (
                <li key={href}>
                  <Link href={href} aria-current={current ? 'page' : undefined}>
                    {label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <div class="session">
          <label>
            <span class="visually-hidden">Organization</span>
            <select
              value={organization.id}
              onChange={(event) => selectOrganization((event.target as HTMLSelectElement).value)}
            >
              {organizations.map((o) => (
                <option key={o.id} value={o.id}>
                  {o.name}
                </option>
              ))}
            </select>
          </label>
          <span class="scopes" title="What this token may do">
            {session.scopes === undefined
              ? '…'
              : session.scopes.includes('customers:write')
                ? 'read & write'
                : 'read only'}
          </span>
          <button type="button" class="secondary" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      {children}
    </div>
  );
}
