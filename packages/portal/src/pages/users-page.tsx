import { type FormEvent, useState } from 'react';
import { may } from '../access.js';
import { api, query, type Role } from '../api.js';
import { ListTable } from '../components/list-table.js';
import { ErrorLine, StatusLine, When } from '../components/notice.js';
import { Pickers } from '../components/pickers.js';
import { useAttempt, useLoad } from '../components/use-load.js';
import { usePortal } from '../places.js';

interface UserRow {
  id: string;
  email: string;
  createdAt: string;
  roles: { accountId: string; accountName: string; vaId: string | null; vaName: string | null; role: Role }[];
}

/** Users of a Smart Account and their roles; an account admin grants and removes roles. */
export function UsersPage() {
  const { principal, accountId, vas } = usePortal();
  const users = useLoad<UserRow[]>(
    async () => (accountId ? api<UserRow[]>('GET', `/accounts/${encodeURIComponent(accountId)}/users`) : []),
    accountId ?? '',
  );
  const { error, attempt } = useAttempt();
  const [status, setStatus] = useState<string | null>(null);
  const [newKey, setNewKey] = useState<string | null>(null);
  const canAdmin = accountId !== null && may(principal, 'admin', accountId, null);
  const accountVas = vas.filter((v) => v.accountId === accountId);

  const grant = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const formElement = event.currentTarget;
    const form = new FormData(formElement);
    const vaId = String(form.get('vaId') ?? '');
    const password = String(form.get('password') ?? '');
    setNewKey(null);
    await attempt(async () => {
      const answer = await api<{ email: string; apiKey: string }>('POST', '/users', {
        email: String(form.get('email') ?? '').trim(),
        accountId,
        role: String(form.get('role')),
        ...(vaId ? { vaId } : {}),
        ...(password ? { password } : {}),
      });
      setStatus(`${answer.email} has the role now.`);
      setNewKey(answer.apiKey);
      formElement.reset();
      users.reload();
    });
  };
  const remove = async (user: UserRow, vaId: string | null) => {
    await attempt(async () => {
      await api('DELETE', `/users/${encodeURIComponent(user.id)}/roles${query({ accountId, vaId })}`);
      setStatus(`Role of ${user.email} removed.`);
      users.reload();
    });
  };

  return (
    <>
      <h1>Users</h1>
      <Pickers />
      <StatusLine text={status} />
      <ErrorLine error={error ?? users.error} />
      <ListTable
        caption="Users of the Smart Account"
        columns={['E-mail', 'Roles', 'Since']}
        rows={users.data}
        empty="No users have a role in this Smart Account."
      >
        {(user) => (
          <tr key={user.id}>
            <th scope="row">{user.email}</th>
            <td>
              <ul className="plain">
                {user.roles.map((r) => (
                  <li key={`${r.accountId}|${r.vaId}`}>
                    {r.role} of {r.vaName ? `Virtual Account ${r.vaName}` : `Smart Account ${r.accountName}`}{' '}
                    {canAdmin && (
                      <button
                        type="button"
                        onClick={() => remove(user, r.vaId)}
                        aria-label={`Remove the ${r.role} role of ${user.email}`}
                      >
                        Remove
                      </button>
                    )}
                  </li>
                ))}
              </ul>
            </td>
            <td>
              <When at={user.createdAt} />
            </td>
          </tr>
        )}
      </ListTable>
      {canAdmin && (
        <>
          <h2>Add a user or a role</h2>
          <form onSubmit={grant} className="stack">
            <label>
              E-mail
              <input name="email" type="email" required />
            </label>
            <label>
              Role
              <select name="role" defaultValue="user">
                <option value="admin">admin</option>
                <option value="user">user</option>
                <option value="viewer">viewer</option>
              </select>
            </label>
            <label>
              Where
              <select name="vaId" defaultValue="">
                <option value="">The whole Smart Account</option>
                {accountVas.map((v) => (
                  <option key={v.id} value={v.id}>
                    Virtual Account {v.name}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Portal password (optional, 12 characters or more)
              <input name="password" type="password" autoComplete="new-password" minLength={12} />
            </label>
            <button type="submit" className="primary">
              Grant Role
            </button>
          </form>
          {newKey && (
            <label>
              The user's API key (shown once)
              <textarea readOnly value={newKey} rows={2} className="code" />
            </label>
          )}
        </>
      )}
    </>
  );
}
