/** One error sentence, announced to screen readers. */
export function ErrorLine(props: { error: string | null | undefined }) {
  if (!props.error) return null;
  return (
    <p role="alert" className="error">
      {props.error}
    </p>
  );
}

/** A short status sentence (saved, copied), announced politely. */
export function StatusLine(props: { text: string | null | undefined }) {
  return (
    <p role="status" className="status">
      {props.text ?? ''}
    </p>
  );
}

/** A date-time in the reader's locale, or an em dash for none. */
export function When(props: { at: string | null | undefined }) {
  if (!props.at) return <>—</>;
  const date = new Date(props.at);
  return <time dateTime={props.at}>{date.toLocaleString()}</time>;
}
