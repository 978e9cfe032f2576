import { type FormEvent, useState } from 'react';
import { may } from '../access.js';
import { api, type Token, type VirtualAccount } from '../api.js';
import { Dialog } from '../components/dialog.js';
import { DialogButtons, OneTimeSecret } from '../components/form.js';
import { ListTable } from '../components/list-table.js';
import { ErrorLine, StatusLine, When } from '../components/notice.js';
import { useAttempt, useLoad } from '../components/use-load.js';
import { copy } from '../format.js';
import { usePortal } from '../places.js';

/** The General tab: the VA and its registration tokens (New Token…, copy, revoke). */
export function GeneralTab(props: { va: VirtualAccount }) {
  const { va } = props;
  const { principal, accounts } = usePortal();
  const tokens = useLoad(() => api<Token[]>('GET', `/virtual-accounts/${encodeURIComponent(va.id)}/tokens`), va.id);
  const [creating, setCreating] = useState(false);
  const [status, setStatus] = useState<string | null>(null);
  const { error, attempt } = useAttempt();
  const canWrite = may(principal, 'write', va.accountId, va.id);

  const revoke = async (token: Token) => {
    await attempt(async () => {
      await api('POST', `/tokens/${encodeURIComponent(token.id)}/revoke`);
      setStatus(`Token ${token.tokenHint} revoked.`);
      tokens.reload();
    });
  };
  const copyToken = async (value: string) => {
    setStatus((await copy(value)) ? 'Token copied to the clipboard.' : 'The browser did not allow copying.');
  };

  return (
    <>
      <h2>Virtual Account</h2>
      <dl className="facts">
        <dt>Name</dt>
        <dd>{va.name}</dd>
        <dt>Smart Account</dt>
        <dd>{accounts.find((a) => a.id === va.accountId)?.name ?? va.accountId}</dd>
      </dl>
      <h2>Product Instance Registration Tokens</h2>
      <p>The registration tokens below can be used to register new product instances to this virtual account.</p>
      {canWrite && (
        <button type="button" className="primary" onClick={() => setCreating(true)}>
          New Token…
        </button>
      )}
      <StatusLine text={status} />
      <ErrorLine error={error ?? tokens.error} />
      <ListTable
        caption="Registration tokens"
        columns={['Token', 'Description', 'Created', 'Expires', 'Uses', 'Export-Controlled', 'Status', 'Actions']}
        rows={tokens.data}
        empty="No tokens yet."
      >
        {(token) => (
          <tr key={token.id}>
            <td>
              <code>{token.tokenHint}</code>
            </td>
            <td>{token.description}</td>
            <td>
              <When at={token.createdAt} />
            </td>
            <td>
              <When at={token.expiresAt} />
            </td>
            <td>
              {token.uses}
              {token.maxUses !== null ? ` of ${token.maxUses}` : ''}
            </td>
            <td>{token.exportControlled ? 'Allowed' : 'Not allowed'}</td>
            <td>{token.status}</td>
            <td className="actions">
              {token.token && (
                <button
                  type="button"
                  onClick={() => copyToken(token.token ?? '')}
                  aria-label={`Copy token ${token.tokenHint}`}
                >
                  Copy
                </button>
              )}
              {canWrite && token.status === 'ACTIVE' && (
                <button type="button" onClick={() => revoke(token)} aria-label={`Revoke token ${token.tokenHint}`}>
                  Revoke
                </button>
              )}
            </td>
          </tr>
        )}
      </ListTable>
      {creating && (
        <NewTokenDialog
          va={va}
          onClose={() => setCreating(false)}
          onCreated={() => {
            tokens.reload();
          }}
        />
      )}
    </>
  );
}

function NewTokenDialog(props: { va: VirtualAccount; onClose: () => void; onCreated: () => void }) {
  const { error, attempt } = useAttempt();
  const [created, setCreated] = useState<Token | null>(null);

  const submit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const maxUses = String(form.get('maxUses') ?? '').trim();
    await attempt(async () => {
      const token = await api<Token>('POST', `/virtual-accounts/${encodeURIComponent(props.va.id)}/tokens`, {
        description: String(form.get('description') ?? ''),
        days: Number(form.get('days')),
        ...(maxUses ? { maxUses: Number(maxUses) } : {}),
        exportControlled: form.get('exportControlled') === 'on',
      });
      setCreated(token);
      props.onCreated();
    });
  };

  return (
    <Dialog title="Create Registration Token" onClose={props.onClose}>
      {created?.token ? (
        <>
          <p>The token was created. Enter it in the Smart Licensing configuration of your products.</p>
          <OneTimeSecret label="Token" value={created.token} onClose={props.onClose} />
        </>
      ) : (
        <form onSubmit={submit}>
          <p>
            This will create a token that is used to register product instances, so that they can use licenses from this
            virtual account.
          </p>
          <p>Virtual Account: {props.va.name}</p>
          <label>
            Description
            <input name="description" type="text" maxLength={1000} />
          </label>
          <label>
            Expire After (days, 1–365)
            <input name="days" type="number" min={1} max={365} defaultValue={30} required />
          </label>
          <label>
            Max. Number of Uses
            <input name="maxUses" type="number" min={1} />
          </label>
          <label className="check">
            <input name="exportControlled" type="checkbox" />
            Allow export-controlled functionality on the products registered with this token
          </label>
          <ErrorLine error={error} />
          <DialogButtons action="Create Token" onClose={props.onClose} />
        </form>
      )}
    </Dialog>
  );
}
