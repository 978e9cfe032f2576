import { type FormEvent, useState } from 'react';
import { may } from '../access.js';
import { api } from '../api.js';
import { Dialog } from '../components/dialog.js';
import { DialogButtons, VaSelect } from '../components/form.js';
import { ListTable } from '../components/list-table.js';
import { ErrorLine, StatusLine, When } from '../components/notice.js';
import { Pickers } from '../components/pickers.js';
import { useAttempt, useLoad } from '../components/use-load.js';
import { usePortal } from '../places.js';

interface Pak {
  id: string;
  number: string;
  orderNumber: string | null;
  importedAt: string;
  status: 'NOT_CONVERTED' | 'PARTIALLY_CONVERTED' | 'CONVERTED';
  skus: { sku: string; tag: string; name: string; quantity: number; converted: number; convertible: number }[];
}
interface Conversion {
  id: string;
  kind: 'pak' | 'device';
  pakNumber: string | null;
  sku: string | null;
  udi: string | null;
  vaId: string;
  tag: string;
  quantity: number;
  at: string;
  actor: string;
}

/** Convert to Smart Licensing: the Smart Account's PAKs (Convert PAKs) and the Conversion History. */
export function ConversionPage() {
  const { principal, accountId, vas } = usePortal();
  const id = encodeURIComponent(accountId ?? '');
  const paks = useLoad<Pak[]>(
    async () => (accountId ? api<Pak[]>('GET', `/accounts/${id}/paks`) : []),
    accountId ?? '',
  );
  const history = useLoad<Conversion[]>(
    async () => (accountId ? api<Conversion[]>('GET', `/accounts/${id}/conversions`) : []),
    accountId ?? '',
  );
  const [converting, setConverting] = useState<Pak | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const canWrite = accountId !== null && may(principal, 'write', accountId, null);
  const vaName = (vaId: string) => vas.find((v) => v.id === vaId)?.name ?? vaId;

  return (
    <>
      <h1>Convert to Smart Licensing</h1>
      <Pickers />
      <h2>Convert PAKs</h2>
      <StatusLine text={status} />
      <ErrorLine error={paks.error} />
      <ListTable
        caption="PAKs of the Smart Account"
        columns={['PAK', 'Order', 'Imported', 'Licenses', 'Status', canWrite && 'Actions']}
        rows={paks.data}
        empty="No PAKs in this Smart Account."
      >
        {(pak) => (
          <tr key={pak.id}>
            <th scope="row">{pak.number}</th>
            <td>{pak.orderNumber ?? '—'}</td>
            <td>
              <When at={pak.importedAt} />
            </td>
            <td>
              {pak.skus.map((s) => `${s.name || s.tag}: ${s.convertible} of ${s.quantity} convertible`).join('; ')}
            </td>
            <td>{pak.status.replace(/_/g, ' ').toLowerCase()}</td>
            {canWrite && (
              <td>
                {pak.status !== 'CONVERTED' && (
                  <button type="button" onClick={() => setConverting(pak)} aria-label={`Convert PAK ${pak.number}`}>
                    Convert to Smart Licenses
                  </button>
                )}
              </td>
            )}
          </tr>
        )}
      </ListTable>
      <h2>Conversion History</h2>
      <ErrorLine error={history.error} />
      <ListTable
        caption="Conversion history"
        columns={['When', 'Source', 'License', 'Quantity', 'Virtual Account', 'By']}
        rows={history.data}
        empty="No conversions yet."
      >
        {(c) => (
          <tr key={c.id}>
            <td>
              <When at={c.at} />
            </td>
            <td>{c.kind === 'pak' ? `PAK ${c.pakNumber ?? ''} ${c.sku ?? ''}` : `device ${c.udi ?? ''}`}</td>
            <td>{c.tag}</td>
            <td className="num">{c.quantity}</td>
            <td>{vaName(c.vaId)}</td>
            <td>{c.actor}</td>
          </tr>
        )}
      </ListTable>
      {converting && accountId && (
        <ConvertDialog
          pak={converting}
          accountId={accountId}
          onClose={() => setConverting(null)}
          onDone={() => {
            setStatus(`PAK ${converting.number} converted.`);
            paks.reload();
            history.reload();
          }}
        />
      )}
    </>
  );
}

function ConvertDialog(props: { pak: Pak; accountId: string; onClose: () => void; onDone: () => void }) {
  const { vas } = usePortal();
  const targets = vas.filter((v) => v.accountId === props.accountId);
  const { error, attempt } = useAttempt();
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const lines = props.pak.skus
      .map((s) => ({ sku: s.sku, quantity: Number(form.get(`sku:${s.sku}`) || 0) }))
      .filter((l) => l.quantity > 0);
    await attempt(async () => {
      await api('POST', `/paks/${encodeURIComponent(props.pak.id)}/convert`, { vaId: String(form.get('vaId')), lines });
      props.onDone();
      props.onClose();
    });
  };
  return (
    <Dialog title={`Convert PAK ${props.pak.number}`} onClose={props.onClose}>
      <form onSubmit={submit}>
        <VaSelect label="Virtual Account" name="vaId" vas={targets} />
        <fieldset>
          <legend>Quantities to convert</legend>
          {props.pak.skus.map((s) => (
            <label key={s.sku}>
              {s.sku} ({s.name || s.tag})
              <input name={`sku:${s.sku}`} type="number" min={0} max={s.convertible} defaultValue={s.convertible} />
            </label>
          ))}
        </fieldset>
        <ErrorLine error={error} />
        <DialogButtons action="Convert" onClose={props.onClose} />
      </form>
    </Dialog>
  );
}
