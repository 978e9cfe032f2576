import { type MouseEvent, useCallback, useEffect, useMemo, useState } from 'react';
import { type Account, type ServerInfo, type Session, signOut, type VirtualAccount } from './api.js';
import { ErrorLine } from './components/notice.js';
import { messageOf } from './components/use-load.js';
import { ConversionPage } from './pages/conversion-page.js';
import { InventoryPage } from './pages/inventory-page.js';
import { ReportsPage } from './pages/reports-page.js';
import { SatellitesPage } from './pages/satellites-page.js';
import { SyncPage } from './pages/sync-page.js';
import { UsersPage } from './pages/users-page.js';
import { WebhooksPage } from './pages/webhooks-page.js';
import { loadPlaces, Portal, type PortalContext } from './places.js';
import { navigate, type Route } from './router.js';

/** A link that changes the URL without reloading the page. */
export function Link(props: { to: string; current?: boolean; children: string }) {
  const click = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
    event.preventDefault();
    navigate(props.to);
  };
  return (
    <a href={props.to} onClick={click} aria-current={props.current ? 'page' : undefined}>
      {props.children}
    </a>
  );
}

/** The signed-in frame: the navigation, who is signed in, and the page of the route. */
export function Layout(props: { route: Route; session: Session; server: ServerInfo; onSignedOut: () => void }) {
  const { route, session, server } = props;
  const [places, setPlaces] = useState<{ accounts: Account[]; vas: VirtualAccount[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [chosenAccount, setChosenAccount] = useState<string | null>(null);
  const [round, setRound] = useState(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `round` asks for a reload
  useEffect(() => {
    loadPlaces().then(setPlaces, (e: unknown) => setError(messageOf(e)));
  }, [round]);

  const routeVa = route.page === 'inventory' || route.page === 'reports' ? route.vaId : null;
  const accountId = useMemo(() => {
    if (!places) return null;
    const fromRoute = places.vas.find((va) => va.id === routeVa)?.accountId;
    return fromRoute ?? chosenAccount ?? places.accounts[0]?.id ?? null;
  }, [places, routeVa, chosenAccount]);

  const reloadPlaces = useCallback(() => setRound((r) => r + 1), []);
  const context: PortalContext | null = places && {
    principal: session.principal,
    server,
    accounts: places.accounts,
    vas: places.vas,
    accountId,
    setAccountId: setChosenAccount,
    reloadPlaces,
  };

  const out = async () => {
    try {
      await signOut();
    } finally {
      props.onSignedOut();
    }
  };

  const nav: { to: string; label: string; page: Route['page'] }[] = [
    { to: '/inventory', label: 'Inventory', page: 'inventory' },
    { to: '/conversion', label: 'Convert to Smart Licensing', page: 'conversion' },
    { to: '/reports', label: 'Reports', page: 'reports' },
    { to: '/satellites', label: 'Satellites', page: 'satellites' },
    { to: '/users', label: 'Users', page: 'users' },
    { to: '/webhooks', label: 'Webhooks', page: 'webhooks' },
  ];
  if (server.mode === 'satellite') nav.push({ to: '/sync', label: 'Synchronization', page: 'sync' });

  return (
    <>
      <header className="top">
        <span className="brand">smartlic</span>
        <span className="who">
          {session.principal.email} ({server.mode}, {server.version})
        </span>
        <button type="button" onClick={out}>
          Sign out
        </button>
      </header>
      <nav aria-label="Main" className="main-nav">
        <ul>
          {nav.map((item) => (
            <li key={item.page}>
              <Link to={item.to} current={route.page === item.page}>
                {item.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main>
        <ErrorLine error={error} />
        {context ? (
          <Portal.Provider value={context}>
            <Page route={route} />
          </Portal.Provider>
        ) : (
          !error && <p className="loading">Loading…</p>
        )}
      </main>
    </>
  );
}

function Page(props: { route: Route }) {
  const { route } = props;
  switch (route.page) {
    case 'inventory':
      return <InventoryPage vaId={route.vaId} tab={route.tab} />;
    case 'reports':
      return <ReportsPage vaId={route.vaId} />;
    case 'conversion':
      return <ConversionPage />;
    case 'satellites':
      return <SatellitesPage />;
    case 'sync':
      return <SyncPage />;
    case 'users':
      return <UsersPage />;
    case 'webhooks':
      return <WebhooksPage />;
    default:
      return (
        <>
          <h1>Page not found</h1>
          <p>There is no page at this address.</p>
        </>
      );
  }
}
