import { useCallback, useEffect, useState } from 'react';
import {
  ApiError,
  api,
  currentSession,
  type ServerInfo,
  type Session,
  setCsrfToken,
  setSignedOutHandler,
} from './api.js';
import { Layout } from './layout.js';
import { SignInPage } from './pages/sign-in-page.js';
import { navigate, pathOf, useRoute } from './router.js';

type State =
  | { kind: 'checking' }
  | { kind: 'signed-out'; notice: string | null }
  | { kind: 'signed-in'; session: Session; server: ServerInfo };

/** The portal: the sign-in page until there is a session, then the signed-in layout. */
export function App() {
  const route = useRoute();
  const [state, setState] = useState<State>({ kind: 'checking' });

  const enter = useCallback(async (session: Session) => {
    setCsrfToken(session.csrfToken);
    const server = await api<ServerInfo>('GET', '/server');
    setState({ kind: 'signed-in', session, server });
  }, []);

  useEffect(() => {
    setSignedOutHandler(() => {
      setCsrfToken(null);
      setState({ kind: 'signed-out', notice: 'Your session has ended. Sign in again.' });
    });
    currentSession().then(enter, (error: unknown) => {
      const notice = error instanceof ApiError && error.status === 401 ? null : messageOf(error);
      setState({ kind: 'signed-out', notice });
    });
    return () => setSignedOutHandler(null);
  }, [enter]);

  // The sign-in page has its own URL; after signing in, go on to where the user was headed.
  useEffect(() => {
    if (state.kind === 'signed-out' && route.page !== 'sign-in') {
      sessionStorage.setItem('smartlic.next', location.pathname);
      navigate('/sign-in', true);
    }
    if (state.kind === 'signed-in' && route.page === 'sign-in') {
      const next = sessionStorage.getItem('smartlic.next');
      sessionStorage.removeItem('smartlic.next');
      navigate(next && next !== '/sign-in' ? next : pathOf({ page: 'inventory', vaId: null, tab: 'general' }), true);
    }
  }, [state.kind, route.page]);

  if (state.kind === 'checking') return <p className="loading">Loading…</p>;
  if (state.kind === 'signed-out') return <SignInPage notice={state.notice} onSignedIn={enter} />;
  return (
    <Layout
      route={route}
      session={state.session}
      server={state.server}
      onSignedOut={() => {
        setCsrfToken(null);
        setState({ kind: 'signed-out', notice: 'You have signed out.' });
      }}
    />
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
