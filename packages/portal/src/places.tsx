import { createContext, useContext } from 'react';
import { type Account, api, type Principal, type ServerInfo, type VirtualAccount } from './api.js';

/** What every page knows: who is signed in, the server, and the places the principal may see. */
export interface PortalContext {
  principal: Principal;
  server: ServerInfo;
  accounts: Account[];
  vas: VirtualAccount[];
  /** The Smart Account chosen in the picker (the first one until one is chosen). */
  accountId: string | null;
  setAccountId: (id: string) => void;
  reloadPlaces: () => void;
}

export const Portal = createContext<PortalContext | null>(null);

/** The portal context; only pages inside the signed-in layout use it. */
export function usePortal(): PortalContext {
  const context = useContext(Portal);
  if (!context) throw new Error('usePortal outside the signed-in layout');
  return context;
}

/** Every Smart Account the principal sees and their Virtual Accounts it sees. */
export async function loadPlaces(): Promise<{ accounts: Account[]; vas: VirtualAccount[] }> {
  const accounts = await api<Account[]>('GET', '/accounts');
  const lists = await Promise.all(
    accounts.map((a) => api<VirtualAccount[]>('GET', `/accounts/${encodeURIComponent(a.id)}/virtual-accounts`)),
  );
  return { accounts, vas: lists.flat() };
}
