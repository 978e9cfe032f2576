import { type FormEvent, useState } from 'react';
import { api, type SyncDocument, type SyncStatus } from '../api.js';
import { Dialog } from '../components/dialog.js';
import { ErrorLine, StatusLine, When } from '../components/notice.js';
import { messageOf, useAttempt, useLoad } from '../components/use-load.js';
import { download, readSyncFile, syncFileText } from '../format.js';
import { usePortal } from '../places.js';

interface SyncNowAnswer {
  sequence: number;
  full: boolean;
  up: Record<string, number | boolean>;
  down: Record<string, number | boolean>;
}

/**
 * Synchronization (on a satellite): its health line, last sync, next due, served VAs and alerts;
 * Standard Synchronization, Full Synchronization Now…, Manual Synchronization… (request file down,
 * response file up), and registration with a satellite token while it is not registered.
 */
export function SyncPage() {
  const { principal } = usePortal();
  if (principal.kind !== 'owner') {
    return (
      <>
        <h1>Synchronization</h1>
        <p>Only the owner of this satellite manages its synchronization.</p>
      </>
    );
  }
  return <OwnerSyncPage />;
}

function OwnerSyncPage() {
  const { reloadPlaces } = usePortal();
  const sync = useLoad(() => api<SyncStatus>('GET', '/sync/status'), 'status');
  const [dialog, setDialog] = useState<'full' | 'manual' | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const s = sync.data;
  const changed = () => {
    sync.reload();
    reloadPlaces();
  };

  const syncNow = async (full: boolean) => {
    setError(null);
    setStatus(null);
    setBusy(true);
    try {
      const answer = await api<SyncNowAnswer>('POST', '/sync/now', { full });
      setStatus(`${full ? 'Full synchronization' : 'Synchronization'} ${answer.sequence} completed.`);
    } catch (e) {
      setError(messageOf(e));
    } finally {
      setBusy(false);
      changed();
    }
  };

  return (
    <>
      <h1>Synchronization</h1>
      <ErrorLine error={sync.error} />
      {s && (
        <>
          <p className={s.health.startsWith('Good') ? 'health good' : 'health bad'}>
            <strong>Health:</strong> {s.health}
          </p>
          <dl className="facts">
            <dt>Satellite</dt>
            <dd>{s.name ?? 'Not registered'}</dd>
            <dt>Upstream</dt>
            <dd>{s.upstream ?? 'None: synchronizes by files'}</dd>
            <dt>Last Sync Up</dt>
            <dd>
              <When at={s.lastSyncUp} />
            </dd>
            <dt>Last Sync Down</dt>
            <dd>
              <When at={s.lastSyncDown} />
            </dd>
            <dt>Synchronization Due</dt>
            <dd>
              <When at={s.syncDue} />
            </dd>
            <dt>Next Scheduled Sync</dt>
            <dd>
              {s.scheduleDays === null ? 'Off (manual only)' : <When at={s.nextScheduledSync} />}
              {s.scheduleDays !== null && ` (every ${s.scheduleDays} days)`}
            </dd>
            <dt>Certificate Expires</dt>
            <dd>
              <When at={s.certificateExpiresAt} />
            </dd>
            <dt>Virtual Accounts</dt>
            <dd>{s.vas.map((va) => va.name).join(', ') || '—'}</dd>
            <dt>Alerts</dt>
            <dd>{s.alerts.join(', ') || '—'}</dd>
          </dl>
          <div className="buttons">
            {s.registered && s.upstream && (
              <>
                <button type="button" className="primary" disabled={busy} onClick={() => syncNow(false)}>
                  Standard Synchronization
                </button>
                <button type="button" disabled={busy} onClick={() => setDialog('full')}>
                  Full Synchronization Now…
                </button>
              </>
            )}
            <button type="button" onClick={() => setDialog('manual')}>
              Manual Synchronization…
            </button>
          </div>
          <StatusLine text={status} />
          <ErrorLine error={error} />
          {!s.registered && <RegisterForm onRegistered={changed} />}
        </>
      )}
      {dialog === 'full' && (
        <Dialog title="Full Synchronization" onClose={() => setDialog(null)}>
          <p>
            A full synchronization sends everything this satellite has and brings everything down again, repairing any
            drift. It may take a while on a large site.
          </p>
          <div className="buttons">
            <button
              type="button"
              className="primary"
              onClick={() => {
                setDialog(null);
                void syncNow(true);
              }}
            >
              Synchronize Everything
            </button>
            <button type="button" onClick={() => setDialog(null)}>
              Cancel
            </button>
          </div>
        </Dialog>
      )}
      {dialog === 'manual' && s && (
        <ManualSyncDialog registered={s.registered} onClose={() => setDialog(null)} onChanged={changed} />
      )}
    </>
  );
}

/** Registration over the network: the satellite token and the upstream's URL. */
function RegisterForm(props: { onRegistered: () => void }) {
  const { error, attempt } = useAttempt();
  const [status, setStatus] = useState<string | null>(null);
  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    await attempt(async () => {
      const answer = await api<{ registered: boolean; name?: string }>('POST', '/sync/register', {
        token: String(form.get('token') ?? '').trim(),
        upstream: String(form.get('upstream') ?? '').trim(),
      });
      setStatus(`Registered as satellite ${answer.name ?? ''}.`);
      props.onRegistered();
    });
  };
  return (
    <section aria-labelledby="register-heading">
      <h2 id="register-heading">Register This Satellite</h2>
      <p>
        Enter the satellite token made on the upstream's Satellites page. Without a network path to the upstream, use
        Manual Synchronization… instead.
      </p>
      <form className="stack" onSubmit={submit}>
        <label>
          Satellite Token
          <input name="token" type="text" required autoComplete="off" />
        </label>
        <label>
          Upstream URL
          <input name="upstream" type="url" required placeholder="https://licensing.example.com" />
        </label>
        <ErrorLine error={error} />
        <StatusLine text={status} />
        <div className="buttons">
          <button type="submit" className="primary">
            Register
          </button>
        </div>
      </form>
    </section>
  );
}

/**
 * Manual (air-gapped) synchronization: download the request file (a registration request with
 * the token while not registered), carry it to the upstream's File Sync…, upload its response.
 */
function ManualSyncDialog(props: { registered: boolean; onClose: () => void; onChanged: () => void }) {
  const { error, setError, attempt } = useAttempt();
  const [status, setStatus] = useState<string | null>(null);

  const requestFile = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setStatus(null);
    await attempt(async () => {
      const answer = props.registered
        ? await api<{ file: string; document: SyncDocument }>('POST', '/sync/export', {
            full: form.get('full') === 'on',
          })
        : await api<{ file?: string; document?: SyncDocument }>('POST', '/sync/register', {
            token: String(form.get('token') ?? '').trim(),
            file: true,
          });
      if (!answer.file || !answer.document) throw new Error('The server wrote no request file.');
      download(answer.file, syncFileText(answer.document), 'application/yaml');
      setStatus(`The request file ${answer.file} was downloaded. Upload it to the upstream's File Sync….`);
      props.onChanged();
    });
  };

  const responseFile = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const file = new FormData(event.currentTarget).get('response');
    setStatus(null);
    if (!(file instanceof File) || file.name === '') {
      setError('Choose the response file the upstream gave.');
      return;
    }
    await attempt(async () => {
      const answer = await api<{ kind: string; sequence: number; applied: boolean }>(
        'POST',
        '/sync/import',
        await readSyncFile(file),
      );
      setStatus(
        answer.kind === 'registration-response'
          ? 'The registration response was loaded: this satellite is registered.'
          : `Response ${answer.sequence} was ${answer.applied ? 'applied' : 'already applied; nothing changed'}.`,
      );
      props.onChanged();
    });
  };

  return (
    <Dialog title="Manual Synchronization" onClose={props.onClose}>
      <form className="stack" onSubmit={requestFile}>
        <h3>1. Download the request file</h3>
        {props.registered ? (
          <label className="check">
            <input name="full" type="checkbox" />
            Full synchronization (send and receive everything)
          </label>
        ) : (
          <label>
            Satellite Token
            <input name="token" type="text" required autoComplete="off" />
          </label>
        )}
        <div className="buttons">
          <button type="submit" className="primary">
            Download Request File
          </button>
        </div>
      </form>
      <form className="stack" onSubmit={responseFile}>
        <h3>2. Upload the response file</h3>
        <label>
          Response File
          <input name="response" type="file" accept=".yml,.yaml,.json" required />
        </label>
        <div className="buttons">
          <button type="submit" className="primary">
            Upload Response File
          </button>
        </div>
      </form>
      <ErrorLine error={error} />
      <StatusLine text={status} />
      <div className="buttons">
        <button type="button" onClick={props.onClose}>
          Close
        </button>
      </div>
    </Dialog>
  );
}
