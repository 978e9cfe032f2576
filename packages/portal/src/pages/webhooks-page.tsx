import { type FormEvent, useState } from 'react';
import { may } from '../access.js';
import { api } from '../api.js';
import { ListTable } from '../components/list-table.js';
import { ErrorLine, StatusLine, When } from '../components/notice.js';
import { Pickers } from '../components/pickers.js';
import { useAttempt, useLoad } from '../components/use-load.js';
import { usePortal } from '../places.js';

interface Webhook {
  id: string;
  url: string;
  events: string[];
  createdAt: string;
}

const EVENTS = [
  'instance.compliance-changed',
  'instance.silent',
  'license.expiring',
  'license.expired',
  'satellite.sync-due',
  'conversion.device-pending',
  'summary.daily',
] as const;

/** Webhooks of a Smart Account: add (the secret shown once), test, remove. */
export function WebhooksPage() {
  const { principal, accountId } = usePortal();
  const hooks = useLoad<Webhook[]>(
    async () => (accountId ? api<Webhook[]>('GET', `/accounts/${encodeURIComponent(accountId)}/webhooks`) : []),
    accountId ?? '',
  );
  const { error, attempt } = useAttempt();
  const [status, setStatus] = useState<string | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const canAdmin = accountId !== null && may(principal, 'admin', accountId, null);

  const act = async (work: () => Promise<unknown>, done: string) => {
    await attempt(async () => {
      await work();
      setStatus(done);
      hooks.reload();
    });
  };
  const add = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    await act(async () => {
      const answer = await api<{ secret?: string }>(
        'POST',
        `/accounts/${encodeURIComponent(accountId ?? '')}/webhooks`,
        {
          url: String(form.get('url') ?? '').trim(),
          events: EVENTS.filter((e) => form.get(`event:${e}`) === 'on'),
        },
      );
      setSecret(answer.secret ?? null);
      formElement.reset();
    }, 'Webhook added.');
  };

  return (
    <>
      <h1>Webhooks</h1>
      <Pickers />
      <StatusLine text={status} />
      <ErrorLine error={error ?? hooks.error} />
      <ListTable
        caption="Webhooks of the Smart Account"
        columns={['URL', 'Events', 'Added', !!canAdmin && 'Actions']}
        rows={hooks.data}
        empty="No webhooks."
      >
        {(hook) => (
          <tr key={hook.id}>
            <th scope="row">{hook.url}</th>
            <td>{hook.events.length ? hook.events.join(', ') : 'all alerts'}</td>
            <td>
              <When at={hook.createdAt} />
            </td>
            {canAdmin && (
              <td className="actions">
                <button
                  type="button"
                  onClick={() =>
                    act(() => api('POST', `/webhooks/${encodeURIComponent(hook.id)}/test`), 'Test delivery queued.')
                  }
                >
                  Test
                </button>
                <button
                  type="button"
                  onClick={() =>
                    act(() => api('DELETE', `/webhooks/${encodeURIComponent(hook.id)}`), 'Webhook removed.')
                  }
                >
                  Remove
                </button>
              </td>
            )}
          </tr>
        )}
      </ListTable>
      {canAdmin && (
        <>
          <h2>Add a webhook</h2>
          <form onSubmit={add} className="stack">
            <label>
              URL
              <input name="url" type="url" required />
            </label>
            <fieldset>
              <legend>Events (none: every alert)</legend>
              {EVENTS.map((e) => (
                <label key={e} className="check">
                  <input name={`event:${e}`} type="checkbox" />
                  {e}
                </label>
              ))}
            </fieldset>
            <button type="submit" className="primary">
              Add Webhook
            </button>
          </form>
          {secret && (
            <label>
              Signing secret (shown once)
              <textarea readOnly value={secret} rows={2} className="code" />
            </label>
          )}
        </>
      )}
    </>
  );
}
