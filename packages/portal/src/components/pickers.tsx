import { usePortal } from '../places.js';

/**
 * The *Smart Account* picker and (with `vaId` and `onVa`) the *Virtual Account* picker. Choosing
 * a Smart Account chooses its first Virtual Account.
 */
export function Pickers(props: { vaId?: string | null; onVa?: (vaId: string) => void }) {
  const { accounts, vas, accountId, setAccountId } = usePortal();
  const ownVas = vas.filter((va) => va.accountId === accountId);
  const chooseAccount = (id: string) => {
    setAccountId(id);
    const first = vas.find((va) => va.accountId === id);
    if (first && props.onVa) props.onVa(first.id);
  };
  if (accounts.length === 0) return <p>There is no Smart Account you may see yet.</p>;
  return (
    <div className="pickers">
      <label>
        Smart Account
        <select value={accountId ?? ''} onChange={(e) => chooseAccount(e.target.value)}>
          {accounts.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name}
            </option>
          ))}
        </select>
      </label>
      {props.onVa && (
        <label>
          Virtual Account
          <select
            value={props.vaId ?? ''}
            onChange={(e) => props.onVa?.(e.target.value)}
            disabled={ownVas.length === 0}
          >
            {ownVas.length === 0 && <option value="">(none)</option>}
            {ownVas.map((va) => (
              <option key={va.id} value={va.id}>
                {va.name}
              </option>
            ))}
          </select>
        </label>
      )}
    </div>
  );
}
