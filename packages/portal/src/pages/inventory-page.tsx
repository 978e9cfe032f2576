import { useEffect } from 'react';
import { Pickers } from '../components/pickers.js';
import { Tabs } from '../components/tabs.js';
import { usePortal } from '../places.js';
import { type InventoryTab, navigate, pathOf } from '../router.js';
import { EventsTab } from './events-tab.js';
import { GeneralTab } from './general-tab.js';
import { InstancesTab } from './instances-tab.js';
import { LicensesTab } from './licenses-tab.js';

const TABS = [
  { key: 'general', label: 'General' },
  { key: 'licenses', label: 'Licenses' },
  { key: 'instances', label: 'Product Instances' },
  { key: 'events', label: 'Event Log' },
] as const;

/** Inventory of a Virtual Account: General, Licenses, Product Instances and Event Log. */
export function InventoryPage(props: { vaId: string | null; tab: InventoryTab }) {
  const { vas, accountId } = usePortal();
  const va = vas.find((v) => v.id === props.vaId);
  const go = (vaId: string, tab: InventoryTab) => navigate(pathOf({ page: 'inventory', vaId, tab }));

  // /inventory alone opens the first Virtual Account of the chosen Smart Account.
  useEffect(() => {
    if (props.vaId) return;
    const first = vas.find((v) => v.accountId === accountId);
    if (first) navigate(pathOf({ page: 'inventory', vaId: first.id, tab: props.tab }), true);
  }, [props.vaId, props.tab, vas, accountId]);

  return (
    <>
      <h1>Inventory{va ? `: ${va.name}` : ''}</h1>
      <Pickers vaId={props.vaId} onVa={(vaId) => go(vaId, props.tab)} />
      {props.vaId && !va && <p role="alert">There is no Virtual Account {props.vaId} you may see.</p>}
      {va && (
        <Tabs label="Virtual Account" tabs={TABS} selected={props.tab} onSelect={(tab) => go(va.id, tab)}>
          {props.tab === 'general' && <GeneralTab va={va} />}
          {props.tab === 'licenses' && <LicensesTab va={va} />}
          {props.tab === 'instances' && <InstancesTab va={va} />}
          {props.tab === 'events' && <EventsTab va={va} />}
        </Tabs>
      )}
    </>
  );
}
