import { type FormEvent, useState } from 'react';
import { may } from '../access.js';
import { api, type Instance, type Page, query, type VirtualAccount } from '../api.js';
import { Dialog } from '../components/dialog.js';
import { DialogButtons, VaSelect } from '../components/form.js';
import { ErrorLine, StatusLine, When } from '../components/notice.js';
import { Pager, usePaged } from '../components/pager.js';
import { messageOf } from '../components/use-load.js';
import { download, statusText } from '../format.js';
import { usePortal } from '../places.js';

const PAGE_SIZE = 25;

type Action = 'remove' | 'transfer' | 'update' | 'confirm';

/** The Product Instances tab: search, pages, Remove, Transfer and the reservation actions. */
export function InstancesTab(props: { va: VirtualAccount }) {
  const { va } = props;
  const { principal } = usePortal();
  const [search, setSearch] = useState('');
  const paged = usePaged(
    (cursor) =>
      api<Page<Instance>>(
        'GET',
        `/virtual-accounts/${encodeURIComponent(va.id)}/instances${query({ search, limit: PAGE_SIZE, cursor })}`,
      ),
    `${va.id}|${search}`,
  );
  const { page } = paged;
  const [acting, setActing] = useState<{ action: Action; instance: Instance } | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [importing, setImporting] = useState(false);
  const canWrite = may(principal, 'write', va.accountId, va.id);

  const submitSearch = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    setSearch(String(new FormData(event.currentTarget).get('search') ?? '').trim());
    paged.restart();
  };

  return (
    <>
      <h2>Product Instances</h2>
      <search>
        <form onSubmit={submitSearch} className="inline">
          <label>
            Search by name, PID or serial number
            <input name="search" type="search" defaultValue={search} />
          </label>
          <button type="submit">Search</button>
        </form>
      </search>
      {canWrite && (
        <div className="buttons">
          <button type="button" onClick={() => setImporting(true)}>
            Usage Import…
          </button>
        </div>
      )}
      <StatusLine text={status} />
      <ErrorLine error={page.error} />
      <table>
        <caption className="sr-only">Product instances of {va.name}</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Product Type</th>
            <th scope="col">Last Contact</th>
            <th scope="col">Licenses in Use</th>
            <th scope="col">Alerts</th>
            {canWrite && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {page.data?.items.length === 0 && (
            <tr>
              <td colSpan={6}>No product instances{search ? ' match the search' : ''}.</td>
            </tr>
          )}
          {page.data?.items.map((instance) => {
            const name = instance.hostname ?? `${instance.pid} ${instance.sn}`;
            const alerts = [
              ...(instance.status === 'Authorized' ? [] : [statusText(instance.status)]),
              ...instance.alerts,
            ];
            return (
              <tr key={instance.id}>
                <th scope="row">
                  {name}
                  <div className="sub">
                    UDI_PID:{instance.pid}; UDI_SN:{instance.sn}
                  </div>
                </th>
                <td>{instance.pid}</td>
                <td>
                  <When at={instance.lastContact} />
                </td>
                <td>{instance.usage.map((u) => `${u.tag} × ${u.count}`).join(', ') || '—'}</td>
                <td>{alerts.join(', ') || '—'}</td>
                {canWrite && (
                  <td className="actions">
                    <button
                      type="button"
                      aria-label={`Remove ${name}`}
                      onClick={() => setActing({ action: 'remove', instance })}
                    >
                      Remove
                    </button>
                    <button
                      type="button"
                      aria-label={`Transfer ${name}`}
                      onClick={() => setActing({ action: 'transfer', instance })}
                    >
                      Transfer
                    </button>
                    <button
                      type="button"
                      aria-label={`Update Reserved Licenses of ${name}`}
                      onClick={() => setActing({ action: 'update', instance })}
                    >
                      Update Reserved Licenses
                    </button>
                    <button
                      type="button"
                      aria-label={`Enter Confirmation Code of ${name}`}
                      onClick={() => setActing({ action: 'confirm', instance })}
                    >
                      Enter Confirmation Code
                    </button>
                  </td>
                )}
              </tr>
            );
          })}
        </tbody>
      </table>
      <Pager paged={paged} previous="Previous page" next="Next page" />
      {importing && (
        <UsageImportDialog
          onClose={() => setImporting(false)}
          onImported={(text) => {
            setStatus(text);
            page.reload();
          }}
        />
      )}
      {acting && (
        <InstanceDialog
          va={va}
          action={acting.action}
          instance={acting.instance}
          onClose={() => setActing(null)}
          onDone={(text) => {
            setStatus(text);
            page.reload();
          }}
        />
      )}
    </>
  );
}

const TITLES: Record<Action, string> = {
  remove: 'Remove Product Instance',
  transfer: 'Transfer Product Instance',
  update: 'Update Reserved Licenses',
  confirm: 'Enter Confirmation Code',
};

function InstanceDialog(props: {
  va: VirtualAccount;
  action: Action;
  instance: Instance;
  onClose: () => void;
  onDone: (status: string) => void;
}) {
  const { vas } = usePortal();
  const { instance, action } = props;
  const id = encodeURIComponent(instance.id);
  const [error, setError] = useState<string | null>(null);
  const [code, setCode] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const targets = vas.filter((v) => v.accountId === props.va.accountId && v.id !== props.va.id);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const text = (name: string) => String(form.get(name) ?? '').trim();
    setError(null);
    try {
      if (action === 'remove') {
        const returnCode = text('returnCode');
        if (returnCode) await api('POST', `/instances/${id}/reservation/return`, { code: returnCode });
        else await api('DELETE', `/instances/${id}`);
        setDone('The product instance was removed.');
      } else if (action === 'transfer') {
        await api('POST', `/instances/${id}/transfer`, { toVaId: text('toVaId') });
        setDone('The product instance was transferred.');
      } else if (action === 'update') {
        const licenses = text('licenses')
          .split(/\n/)
          .map((line) => line.trim())
          .filter(Boolean)
          .map((line) => {
            const at = line.lastIndexOf(':');
            return { tag: line.slice(0, at).trim(), count: Number(line.slice(at + 1)) };
          });
        const answer = await api<{ authorizationCode: string }>('POST', `/instances/${id}/reservation`, { licenses });
        setCode(answer.authorizationCode);
        setDone('The reservation was updated. Install the new authorization code on the product.');
      } else {
        await api('POST', `/instances/${id}/reservation/confirm`, { code: text('code') });
        setDone('The confirmation code was accepted.');
      }
    } catch (e) {
      setError(messageOf(e));
    }
  };

  if (done) {
    return (
      <Dialog title={TITLES[action]} onClose={props.onClose}>
        <p role="status">{done}</p>
        {code && (
          <>
            <label>
              Authorization code
              <textarea readOnly value={code} rows={4} className="code" />
            </label>
            <button type="button" onClick={() => download('AuthorizationCode.txt', `${code}\n`)}>
              Download Authorization Code
            </button>
          </>
        )}
        <div className="buttons">
          <button
            type="button"
            className="primary"
            onClick={() => {
              props.onDone(done);
              props.onClose();
            }}
          >
            Close
          </button>
        </div>
      </Dialog>
    );
  }

  return (
    <Dialog title={TITLES[action]} onClose={props.onClose}>
      <form onSubmit={submit}>
        <p>
          {instance.hostname ?? instance.pid} (serial number {instance.sn})
        </p>
        {action === 'remove' && (
          <>
            <p>
              Its licenses go back to the pool. A product with reserved licenses gives a return code: enter it here.
            </p>
            <label>
              Reservation Return Code (reserved products only)
              <textarea name="returnCode" rows={3} className="code" />
            </label>
          </>
        )}
        {action === 'transfer' && <VaSelect label="To Virtual Account" name="toVaId" vas={targets} />}
        {action === 'update' && (
          <label>
            Reserved licenses, one per line as TAG:COUNT
            <textarea
              name="licenses"
              rows={4}
              required
              defaultValue={instance.usage.map((u) => `${u.tag}:${u.count}`).join('\n')}
            />
          </label>
        )}
        {action === 'confirm' && (
          <label>
            Reservation Confirmation Code
            <textarea name="code" rows={3} required className="code" />
          </label>
        )}
        <ErrorLine error={error} />
        <DialogButtons
          action={action === 'remove' ? 'Remove' : action === 'transfer' ? 'Transfer' : 'Submit'}
          kind={action === 'remove' ? 'danger' : 'primary'}
          onClose={props.onClose}
        />
      </form>
    </Dialog>
  );
}

/**
 * Usage Import: a policy device's offline usage file (`license smart save usage`) is posted to
 * its instance's usage-reports route, as `admin usage import` does, and the ACK file comes back
 * as a download to load on the device (`license smart import ACK`).
 */
function UsageImportDialog(props: { onClose: () => void; onImported: (status: string) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const file = new FormData(event.currentTarget).get('usage');
    setError(null);
    setStatus(null);
    if (!(file instanceof File) || file.name === '') {
      setError('Choose the usage file the device saved (license smart save usage).');
      return;
    }
    setBusy(true);
    try {
      const usage = await readUsageFile(file);
      const answer = await api<{ reports: number; acknowledged: number; recorded: number; ackFile: unknown }>(
        'POST',
        `/instances/${encodeURIComponent(usage.instanceId)}/usage-reports`,
        usage,
      );
      const name = ackFileName(file.name);
      download(name, `${JSON.stringify(answer.ackFile, null, 2)}\n`, 'application/json');
      const text = `Imported ${answer.reports} report(s): ${answer.recorded} recorded now, ${answer.reports - answer.recorded} recorded before; ${answer.acknowledged} acknowledged. The ACK file ${name} was downloaded: load it on the device with license smart import ${name}.`;
      setStatus(text);
      props.onImported(text);
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title="Usage Import" onClose={props.onClose}>
      <form onSubmit={submit}>
        <p>
          Upload the usage file a policy device saved (license smart save usage): its reports are recorded here, and the
          ACK file to load on the device is downloaded.
        </p>
        <label>
          Usage File
          <input name="usage" type="file" accept=".json,.txt,application/json,text/plain" required />
        </label>
        <ErrorLine error={error} />
        <StatusLine text={status} />
        <div className="buttons">
          <button type="submit" className="primary" disabled={busy}>
            Import and Download ACK
          </button>
          <button type="button" onClick={props.onClose}>
            Close
          </button>
        </div>
      </form>
    </Dialog>
  );
}

/** Reads a chosen file as a usage file; one sentence when it is not one. */
async function readUsageFile(file: File): Promise<{ instanceId: string } & Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await file.text());
  } catch {
    throw new Error(`${file.name} is not a usage file (not JSON).`);
  }
  const instanceId = (parsed as { instanceId?: unknown } | null)?.instanceId;
  if (typeof parsed !== 'object' || parsed === null || typeof instanceId !== 'string' || instanceId === '') {
    throw new Error(`${file.name} is not a usage file: it names no product instance.`);
  }
  return parsed as { instanceId: string } & Record<string, unknown>;
}

/** The ACK file's name: the usage file's name with -ack before its extension. */
function ackFileName(usageName: string): string {
  const dot = usageName.lastIndexOf('.');
  return dot > 0 ? `${usageName.slice(0, dot)}-ack${usageName.slice(dot)}` : `${usageName}-ack.json`;
}
