import { type FormEvent, useState } from 'react';
import { may } from '../access.js';
import { ApiError, api, type Forecast, type LicenseRow, type VirtualAccount } from '../api.js';
import { Dialog } from '../components/dialog.js';
import { DialogButtons, VaSelect } from '../components/form.js';
import { ListTable } from '../components/list-table.js';
import { ErrorLine, StatusLine } from '../components/notice.js';
import { useAttempt, useLoad } from '../components/use-load.js';
import { download, signed } from '../format.js';
import { usePortal } from '../places.js';

/** The forecast of a VA, or null when this server has no forecast route. */
export async function loadForecast(vaId: string): Promise<Forecast[] | null> {
  try {
    return await api<Forecast[]>('GET', `/vas/${encodeURIComponent(vaId)}/forecast`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404 && e.message.startsWith('There is no route')) return null;
    throw e;
  }
}

function coverage(row: LicenseRow): string {
  const parts: string[] = [];
  if (row.parent) parts.push(`child of ${row.parent}`);
  for (const c of row.coveredBy) parts.push(`${c.count} covered by ${c.tag}`);
  if (row.lentToChildren > 0) parts.push(`${row.lentToChildren} lent to child tags`);
  return parts.join('; ') || '—';
}

/** The Licenses tab: per tag quantity, in use, surplus or shortage, alerts, coverage, forecast. */
export function LicensesTab(props: { va: VirtualAccount }) {
  const { va } = props;
  const { principal } = usePortal();
  const path = `/virtual-accounts/${encodeURIComponent(va.id)}`;
  const rows = useLoad(() => api<LicenseRow[]>('GET', `${path}/licenses`), va.id);
  const forecast = useLoad(() => loadForecast(va.id), va.id);
  const [dialog, setDialog] = useState<'transfer' | 'reserve' | null>(null);
  const canWrite = may(principal, 'write', va.accountId, va.id);
  const shortageOf = (tag: string) => forecast.data?.find((f) => f.tag === tag)?.shortageDate ?? null;

  return (
    <>
      <h2>Licenses</h2>
      {canWrite && (
        <div className="buttons">
          <button type="button" onClick={() => setDialog('transfer')}>
            Transfer…
          </button>
          <button type="button" onClick={() => setDialog('reserve')}>
            License Reservation…
          </button>
        </div>
      )}
      <ErrorLine error={rows.error} />
      <ListTable
        caption={`Licenses of ${va.name}`}
        columns={[
          'License',
          'Quantity',
          'In Use',
          'Surplus (+) / Shortage (−)',
          'Alerts',
          'Hierarchy',
          !!forecast.data && 'Projected Shortage',
        ]}
        rows={rows.data}
        empty="No licenses in this Virtual Account."
      >
        {(row) => (
          <tr key={row.tag}>
            <th scope="row">
              {row.name ?? row.tag}
              {row.name && <div className="sub">{row.tag}</div>}
            </th>
            <td className="num">{row.quantity}</td>
            <td className="num">{row.inUse}</td>
            <td className={row.surplus < 0 ? 'num short' : 'num'}>{signed(row.surplus)}</td>
            <td>{row.alerts.length ? row.alerts.join(', ') : '—'}</td>
            <td>{coverage(row)}</td>
            {forecast.data && <td>{shortageOf(row.tag) ?? 'none projected'}</td>}
          </tr>
        )}
      </ListTable>
      {dialog === 'transfer' && rows.data && (
        <TransferDialog
          va={va}
          rows={rows.data}
          onClose={() => setDialog(null)}
          onDone={() => {
            rows.reload();
            forecast.reload();
          }}
        />
      )}
      {dialog === 'reserve' && rows.data && (
        <ReservationDialog va={va} rows={rows.data} onClose={() => setDialog(null)} onDone={rows.reload} />
      )}
    </>
  );
}

function TransferDialog(props: { va: VirtualAccount; rows: LicenseRow[]; onClose: () => void; onDone: () => void }) {
  const { vas } = usePortal();
  const targets = vas.filter((v) => v.accountId === props.va.accountId && v.id !== props.va.id);
  const { error, attempt } = useAttempt();
  const [status, setStatus] = useState<string | null>(null);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    await attempt(async () => {
      await api('POST', `/virtual-accounts/${encodeURIComponent(props.va.id)}/licenses/transfer`, {
        tag: String(form.get('tag')),
        count: Number(form.get('count')),
        toVaId: String(form.get('toVaId')),
      });
      setStatus('Licenses transferred.');
      props.onDone();
    });
  };
  return (
    <Dialog title="Transfer Licenses" onClose={props.onClose}>
      <form onSubmit={submit}>
        <label>
          License
          <select name="tag" required>
            {props.rows.map((r) => (
              <option key={r.tag} value={r.tag}>
                {r.name ?? r.tag}
              </option>
            ))}
          </select>
        </label>
        <label>
          Quantity
          <input name="count" type="number" min={1} defaultValue={1} required />
        </label>
        <VaSelect label="To Virtual Account" name="toVaId" vas={targets} />
        <ErrorLine error={error} />
        <StatusLine text={status} />
        <DialogButtons action="Transfer" disabled={targets.length === 0} onClose={props.onClose} closeLabel="Close" />
      </form>
    </Dialog>
  );
}

function ReservationDialog(props: { va: VirtualAccount; rows: LicenseRow[]; onClose: () => void; onDone: () => void }) {
  const { error, attempt } = useAttempt();
  const [code, setCode] = useState<string | null>(null);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const licenses = props.rows
      .map((r) => ({ tag: r.tag, count: Number(form.get(`count:${r.tag}`) || 0) }))
      .filter((l) => l.count > 0);
    await attempt(async () => {
      const answer = await api<{ authorizationCode: string }>(
        'POST',
        `/virtual-accounts/${encodeURIComponent(props.va.id)}/reservations`,
        { requestCode: String(form.get('requestCode') ?? '').trim(), licenses },
      );
      setCode(answer.authorizationCode);
      props.onDone();
    });
  };
  return (
    <Dialog title="License Reservation" onClose={props.onClose}>
      {code ? (
        <>
          <p>The licenses are reserved. Install this authorization code on the product.</p>
          <label>
            Authorization code
            <textarea readOnly value={code} rows={4} className="code" />
          </label>
          <DialogButtons
            action="Download Authorization Code"
            onAction={() => download('AuthorizationCode.txt', `${code}\n`)}
            onClose={props.onClose}
            closeLabel="Close"
          />
        </>
      ) : (
        <form onSubmit={submit}>
          <label>
            Reservation Request Code
            <textarea name="requestCode" rows={3} required className="code" />
          </label>
          <fieldset>
            <legend>Licenses to reserve</legend>
            {props.rows.map((r) => (
              <label key={r.tag}>
                {r.name ?? r.tag} (available {Math.max(0, r.surplus)})
                <input name={`count:${r.tag}`} type="number" min={0} defaultValue={0} />
              </label>
            ))}
          </fieldset>
          <ErrorLine error={error} />
          <DialogButtons action="Generate Authorization Code" onClose={props.onClose} />
        </form>
      )}
    </Dialog>
  );
}
