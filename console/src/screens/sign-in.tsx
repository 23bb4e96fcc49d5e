import { useEffect, useState } from 'preact/hooks';
import { useLocation } from 'wouter-preact';
import { Api } from '../lib/api.js';
import { authorizationUrl, completeSignIn, type Session } from '../lib/session.js';
import { ErrorPanel, Loading } from '../components/status.js';

export function SignIn({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const trimmed = token.trim();
    if (trimmed === '') return setError(new Error('Paste an API token first.'));
    setBusy(true);
    setError(undefined);
    try {
      // Checked before it is kept, so a mistyped token is reported here and not on the first screen.
      await new Api(trimmed).client.organizations.list({ limit: 1 }).page();
      onSignedIn({ token: trimmed, source: 'pasted' });
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(false);
    }
  };

  const oauth = async () => {
    try {
      location.assign(await authorizationUrl());
    } catch (caught) {
      setError(caught);
    }
  };

  return (
    <main id="main" class="centered sign-in">
      <h1>customers-api console</h1>
      <p>Sign in with your account, or paste an API token (it is kept in this tab only, and forgotten on sign-out).</p>
      <button type="button" class="primary wide" onClick={() => void oauth()}>
        Sign in
      </button>
      <p class="or" aria-hidden="true">
        or
      </p>
      <form onSubmit={(event) => void submit(event)}>
        <label for="token">API token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          spellcheck={false}
          value={token}
          onInput={(event) => setToken((event.target as HTMLInputElement).value)}
          aria-describedby="token-help"
        />
        <p id="token-help" class="help">
          Create one with <code>customers-api token create --org ORG --scopes customers:read,customers:write</code>.
        </p>
        <button type="submit" disabled={busy}>
          {busy ? 'Checking…' : 'Use token'}
        </button>
      </form>
      {error !== undefined && <ErrorPanel error={error} />}
    </main>
  );
}

export function Callback({ onSignedIn }: { onSignedIn: (session: Session) => void }) {
  const [error, setError] = useState<unknown>();
  const [, navigate] = useLocation();
  useEffect(() => {
    completeSignIn(location.search).then(
      (session) => {
        onSignedIn(session);
        // The code must not linger in the address bar or history.
        navigate('/', { replace: true });
      },
      (caught: unknown) => setError(caught),
    );
  }, []);
  if (error === undefined) return <Loading label="Completing sign-in…" />;
  return (
    <main id="main" class="centered">
      <h1>Sign-in failed</h1>
      <ErrorPanel error={error} />
      <button type="button" onClick={() => navigate('/', { replace: true })}>
        Back to sign-in
      </button>
    </main>
  );
}
