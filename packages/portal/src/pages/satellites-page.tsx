import { type FormEvent, useState } from 'react';
import { may } from '../access.js';
import { api, query, type Satellite, type SyncDocument } from '../api.js';
import { Dialog } from '../components/dialog.js';
import { DialogButtons, OneTimeSecret } from '../components/form.js';
import { ListTable } from '../components/list-table.js';
import { ErrorLine, StatusLine, When } from '../components/notice.js';
import { Pickers } from '../components/pickers.js';
import { messageOf, useAttempt, useLoad } from '../components/use-load.js';
import { download, readSyncFile, responseFileName, syncFileText } from '../format.js';
import { usePortal } from '../places.js';

interface CreatedSatellite {
  id: string;
  name: string;
  token: string;
  expiresAt: string;
}

/**
 * Satellites of a Smart Account (SPEC §8's table): New Satellite… and Remove for account admins,
 * File Sync… (answer a request file with a response file) for the owner.
 */
export function SatellitesPage() {
  const { principal, accountId } = usePortal();
  const satellites = useLoad<Satellite[]>(
    async () => (accountId ? api<Satellite[]>('GET', `/satellites${query({ accountId })}`) : []),
    accountId ?? '',
  );
  const [dialog, setDialog] = useState<'new' | 'file-sync' | Satellite | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const canAdmin = accountId !== null && may(principal, 'admin', accountId, null);
  const canFileSync = principal.kind === 'owner';
  const close = () => setDialog(null);

  return (
    <>
      <h1>Satellites</h1>
      <Pickers />
      <p>Satellites serve Virtual Accounts on the customer's premises and synchronise with this server.</p>
      <div className="buttons">
        {canAdmin && (
          <button type="button" className="primary" onClick={() => setDialog('new')}>
            New Satellite…
          </button>
        )}
        {canFileSync && (
          <button type="button" onClick={() => setDialog('file-sync')}>
            File Sync…
          </button>
        )}
      </div>
      <StatusLine text={status} />
      <ErrorLine error={satellites.error} />
      <ListTable
        caption="Satellites"
        columns={[
          'Name',
          'Virtual Accounts',
          'Product Instances',
          'Last Sync Up',
          'Last Sync Down',
          'Synchronization Due',
          'Version',
          'Certificate Expires',
          'Alerts',
          !!canAdmin && 'Actions',
        ]}
        rows={satellites.data}
        empty="No satellites yet."
      >
        {(s) => (
          <tr key={s.id}>
            <th scope="row">{s.name}</th>
            <td>{s.vas.map((va) => va.name).join(', ')}</td>
            <td className="num">{s.productInstances}</td>
            <td>
              <When at={s.lastSyncUp} />
            </td>
            <td>
              <When at={s.lastSyncDown} />
            </td>
            <td>
              <When at={s.syncDue} />
            </td>
            <td>{s.version ?? '—'}</td>
            <td>
              <When at={s.certificateExpiresAt} />
            </td>
            <td>{s.registered ? s.alerts.join(', ') || '—' : 'Not registered yet'}</td>
            {canAdmin && (
              <td className="actions">
                <button type="button" onClick={() => setDialog(s)} aria-label={`Remove satellite ${s.name}`}>
                  Remove
                </button>
              </td>
            )}
          </tr>
        )}
      </ListTable>
      {dialog === 'new' && accountId && (
        <NewSatelliteDialog accountId={accountId} onClose={close} onCreated={satellites.reload} />
      )}
      {dialog === 'file-sync' && <FileSyncDialog onClose={close} onAnswered={satellites.reload} />}
      {typeof dialog === 'object' && dialog !== null && (
        <RemoveSatelliteDialog
          satellite={dialog}
          onClose={close}
          onRemoved={() => {
            setStatus(`Satellite ${dialog.name} removed; its Virtual Accounts are served here again.`);
            close();
            satellites.reload();
          }}
        />
      )}
    </>
  );
}

function NewSatelliteDialog(props: { accountId: string; onClose: () => void; onCreated: () => void }) {
  const { vas } = usePortal();
  const accountVas = vas.filter((va) => va.accountId === props.accountId);
  const { error, setError, attempt } = useAttempt();
  const [created, setCreated] = useState<CreatedSatellite | null>(null);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const vaIds = form.getAll('vaIds').map(String);
    if (vaIds.length === 0) {
      setError('Choose at least one Virtual Account for the satellite to serve.');
      return;
    }
    await attempt(async () => {
      const answer = await api<CreatedSatellite>('POST', '/satellites', {
        name: String(form.get('name') ?? '').trim(),
        accountId: props.accountId,
        vaIds,
      });
      setCreated(answer);
      props.onCreated();
    });
  };

  return (
    <Dialog title="New Satellite" onClose={props.onClose}>
      {created ? (
        <>
          <p>
            Satellite {created.name} was created. Register it with this one-time token (it expires{' '}
            <When at={created.expiresAt} />
            ); it is not shown again.
          </p>
          <OneTimeSecret label="Satellite Token" value={created.token} onClose={props.onClose} />
        </>
      ) : (
        <form onSubmit={submit}>
          <label>
            Name
            <input name="name" type="text" maxLength={64} required />
          </label>
          <fieldset>
            <legend>Virtual Accounts it serves</legend>
            {accountVas.length === 0 && <p>This Smart Account has no Virtual Account yet.</p>}
            {accountVas.map((va) => (
              <label key={va.id} className="check">
                <input name="vaIds" type="checkbox" value={va.id} />
                {va.name}
              </label>
            ))}
          </fieldset>
          <ErrorLine error={error} />
          <DialogButtons action="Create Satellite" onClose={props.onClose} />
        </form>
      )}
    </Dialog>
  );
}

function FileSyncDialog(props: { onClose: () => void; onAnswered: () => void }) {
  const [error, setError] = useState<string | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const file = new FormData(event.currentTarget).get('request');
    setError(null);
    setStatus(null);
    if (!(file instanceof File) || file.name === '') {
      setError('Choose the request file the satellite wrote.');
      return;
    }
    setBusy(true);
    try {
      const request = await readSyncFile(file);
      const answer = await api<{ satellite: string; sequence: number; applied: boolean; response: SyncDocument }>(
        'POST',
        '/satellites/file-sync',
        request,
      );
      const name = responseFileName(file.name, answer.satellite, answer.sequence);
      download(name, syncFileText(answer.response), 'application/yaml');
      setStatus(
        answer.applied
          ? `Applied request ${answer.sequence} of satellite ${answer.satellite}; the response file ${name} was downloaded. Load it into the satellite.`
          : `Request ${answer.sequence} of satellite ${answer.satellite} was already applied; its response file ${name} was downloaded again.`,
      );
      props.onAnswered();
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog title="File Sync" onClose={props.onClose}>
      <form onSubmit={submit}>
        <p>
          Upload the request file a satellite wrote (license-sync-request-….yml): its registration or synchronization is
          applied here, and the response file to load into the satellite is downloaded.
        </p>
        <label>
          Request File
          <input name="request" type="file" accept=".yml,.yaml,.json" required />
        </label>
        <ErrorLine error={error} />
        <StatusLine text={status} />
        <DialogButtons
          action="Upload and Download Response"
          disabled={busy}
          onClose={props.onClose}
          closeLabel="Close"
        />
      </form>
    </Dialog>
  );
}

function RemoveSatelliteDialog(props: { satellite: Satellite; onClose: () => void; onRemoved: () => void }) {
  const { error, attempt } = useAttempt();
  const remove = async () => {
    await attempt(async () => {
      await api('DELETE', `/satellites/${encodeURIComponent(props.satellite.id)}`);
      props.onRemoved();
    });
  };
  return (
    <Dialog title="Remove Satellite" onClose={props.onClose}>
      <p>
        Remove satellite {props.satellite.name}? Its Virtual Accounts (
        {props.satellite.vas.map((va) => va.name).join(', ')}) are served by this server again, and the satellite can no
        longer synchronise.
      </p>
      <ErrorLine error={error} />
      <DialogButtons action="Remove" onAction={remove} kind="danger" onClose={props.onClose} />
    </Dialog>
  );
}
