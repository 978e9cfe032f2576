import { type ReactNode, useState } from 'react';
import { copy } from '../format.js';
import { StatusLine } from './notice.js';

/**
 * A dialog's row of buttons: its action first (a submit button unless `onAction` is given), then
 * the button that closes the dialog.
 */
export function DialogButtons(props: {
  action: ReactNode;
  onAction?: () => void;
  onClose: () => void;
  closeLabel?: 'Cancel' | 'Close';
  kind?: 'primary' | 'danger';
  disabled?: boolean;
}) {
  return (
    <div className="buttons">
      <button
        type={props.onAction ? 'button' : 'submit'}
        className={props.kind ?? 'primary'}
        disabled={props.disabled}
        onClick={props.onAction}
      >
        {props.action}
      </button>
      <button type="button" onClick={props.onClose}>
        {props.closeLabel ?? 'Cancel'}
      </button>
    </div>
  );
}

/** A secret shown once (a new token): read-only, with Copy and Close. */
export function OneTimeSecret(props: { label: string; value: string; onClose: () => void }) {
  const [status, setStatus] = useState<string | null>(null);
  return (
    <>
      <label>
        {props.label}
        <textarea readOnly value={props.value} rows={3} className="code" />
      </label>
      <StatusLine text={status} />
      <DialogButtons
        action="Copy"
        onAction={async () =>
          setStatus((await copy(props.value)) ? 'Token copied to the clipboard.' : 'Select the token and copy it.')
        }
        onClose={props.onClose}
        closeLabel="Close"
      />
    </>
  );
}

/** A required choice of one Virtual Account among `vas`. */
export function VaSelect(props: { label: string; name: string; vas: { id: string; name: string }[] }) {
  return (
    <label>
      {props.label}
      <select name={props.name} required>
        {props.vas.map((v) => (
          <option key={v.id} value={v.id}>
            {v.name}
          </option>
        ))}
      </select>
    </label>
  );
}
