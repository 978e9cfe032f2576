import { type ReactNode, useEffect, useRef } from 'react';

/**
 * A modal dialog on the native <dialog> element: showModal() traps focus and makes the rest of
 * the page inert, Escape closes it, and focus goes back to what opened it.
 */
export function Dialog(props: { title: string; onClose: () => void; children: ReactNode }) {
  const ref = useRef<HTMLDialogElement>(null);
  const { onClose } = props;
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    dialog.showModal();
    const first = dialog.querySelector<HTMLElement>('input, select, textarea, button:not(.close)');
    first?.focus();
    const cancel = (event: Event) => {
      event.preventDefault();
      onClose();
    };
    dialog.addEventListener('cancel', cancel);
    return () => {
      dialog.removeEventListener('cancel', cancel);
      dialog.close();
      opener?.focus();
    };
  }, [onClose]);
  const titleId = `dialog-${props.title.replace(/\W+/g, '-').toLowerCase()}`;
  return (
    <dialog ref={ref} aria-labelledby={titleId} className="dialog">
      <div className="dialog-head">
        <h2 id={titleId}>{props.title}</h2>
        <button type="button" className="close" aria-label="Close dialog" onClick={onClose}>
          ×
        </button>
      </div>
      {props.children}
    </dialog>
  );
}
