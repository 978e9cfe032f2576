import { useState } from 'react';
import type { Page } from '../api.js';
import { type Loaded, useLoad } from './use-load.js';

/** A list loaded page by page: the cursors walked so far, the current page, and moves. */
export interface Paged<T> {
  page: Loaded<Page<T>>;
  /** The page's number, from 1. */
  number: number;
  previous: () => void;
  next: () => void;
  /** Back to the first page (after the search changed). */
  restart: () => void;
}

/** Loads the page at the current cursor; `key` names everything else `load` reads. */
export function usePaged<T>(load: (cursor: string | null) => Promise<Page<T>>, key: string): Paged<T> {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const cursor = cursors[cursors.length - 1] ?? null;
  const page = useLoad(() => load(cursor), `${key}|${cursor}`);
  return {
    page,
    number: cursors.length,
    previous: () => setCursors(cursors.slice(0, -1)),
    next: () => {
      const nextCursor = page.data?.nextCursor;
      if (nextCursor) setCursors([...cursors, nextCursor]);
    },
    restart: () => setCursors([null]),
  };
}

/** The buttons that move between pages, with the page's number between them. */
export function Pager<T>(props: { paged: Paged<T>; previous: string; next: string }) {
  const { paged } = props;
  return (
    <div className="pager">
      <button type="button" disabled={paged.number <= 1} onClick={paged.previous}>
        {props.previous}
      </button>
      <span>Page {paged.number}</span>
      <button type="button" disabled={!paged.page.data?.nextCursor} onClick={paged.next}>
        {props.next}
      </button>
    </div>
  );
}
