import { type FormEvent, useState } from 'react';
import { type Session, signIn } from '../api.js';
import { ErrorLine } from '../components/notice.js';
import { messageOf } from '../components/use-load.js';

/** Sign in with e-mail and password, or with an API key. */
export function SignInPage(props: { notice: string | null; onSignedIn: (session: Session) => Promise<void> }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [withKey, setWithKey] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const credentials = withKey
      ? { apiKey: String(form.get('apiKey') ?? '').trim() }
      : { email: String(form.get('email') ?? '').trim(), password: String(form.get('password') ?? '') };
    setBusy(true);
    setError(null);
    try {
      await props.onSignedIn(await signIn(credentials));
    } catch (caught) {
      setError(messageOf(caught));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="sign-in">
      <h1>Sign in to smartlic</h1>
      {props.notice && <p className="status">{props.notice}</p>}
      <form onSubmit={submit} aria-label="Sign in">
        {withKey ? (
          <label>
            API key
            <input name="apiKey" type="password" autoComplete="off" required />
          </label>
        ) : (
          <>
            <label>
              E-mail
              <input name="email" type="text" autoComplete="username" required />
            </label>
            <label>
              Password
              <input name="password" type="password" autoComplete="current-password" required />
            </label>
          </>
        )}
        <ErrorLine error={error} />
        <button type="submit" className="primary" disabled={busy}>
          Sign in
        </button>
      </form>
      <p>
        <button type="button" className="link" onClick={() => setWithKey(!withKey)}>
          {withKey ? 'Use e-mail and password instead' : 'Use an API key instead'}
        </button>
      </p>
      <p className="hint">
        The first time, sign in as <code>admin</code> with the password in <code>&lt;data&gt;/admin-password</code>.
      </p>
    </main>
  );
}
