import { useEffect, useState } from 'react';

/** Every page of the portal, as its URL names it (SPEC §9 deep links). */
export type InventoryTab = 'general' | 'licenses' | 'instances' | 'events';
export type Route =
  | { page: 'sign-in' }
  | { page: 'inventory'; vaId: string | null; tab: InventoryTab }
  | { page: 'reports'; vaId: string | null }
  | { page: 'conversion' }
  | { page: 'satellites' }
  | { page: 'users' }
  | { page: 'webhooks' }
  | { page: 'sync' }
  | { page: 'not-found'; path: string };

const TABS: readonly InventoryTab[] = ['general', 'licenses', 'instances', 'events'];

/** The route of a path; unknown paths are `not-found`. */
export function parseRoute(path: string): Route {
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const [first, second, third] = parts;
  if (first === undefined) return { page: 'inventory', vaId: null, tab: 'general' };
  if (first === 'inventory' && parts.length <= 3) {
    const tab = (third ?? 'general') as InventoryTab;
    if (TABS.includes(tab)) return { page: 'inventory', vaId: second ?? null, tab };
  }
  if (first === 'reports' && parts.length <= 2) return { page: 'reports', vaId: second ?? null };
  if (parts.length === 1) {
    if (first === 'sign-in') return { page: 'sign-in' };
    if (first === 'conversion') return { page: 'conversion' };
    if (first === 'satellites') return { page: 'satellites' };
    if (first === 'users') return { page: 'users' };
    if (first === 'webhooks') return { page: 'webhooks' };
    if (first === 'sync') return { page: 'sync' };
  }
  return { page: 'not-found', path };
}

/** The path of a route. */
export function pathOf(route: Route): string {
  switch (route.page) {
    case 'inventory':
      return route.vaId ? `/inventory/${encodeURIComponent(route.vaId)}/${route.tab}` : '/inventory';
    case 'reports':
      return route.vaId ? `/reports/${encodeURIComponent(route.vaId)}` : '/reports';
    case 'not-found':
      return route.path;
    default:
      return `/${route.page}`;
  }
}

const listeners = new Set<() => void>();

/** Goes to `path` (a new history entry, or replacing the current one). */
export function navigate(path: string, replace = false): void {
  if (path === location.pathname) return;
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  for (const listener of listeners) listener();
}

/** The current route; re-renders on navigate and on the browser's back and forward. */
export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.pathname));
  useEffect(() => {
    const update = () => setRoute(parseRoute(location.pathname));
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return route;
}
