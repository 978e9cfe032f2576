import { type FormEvent, useState } from 'react';
import { api, type EventRow, type Page, query, type VirtualAccount } from '../api.js';
import { ErrorLine, When } from '../components/notice.js';
import { Pager, usePaged } from '../components/pager.js';
import { toCsv } from '../csv.js';
import { download } from '../format.js';

const PAGE_SIZE = 50;

/** Event types an operator looks for most (the server filters by type). */
const TYPES = [
  'instance.registered',
  'instance.usage-changed',
  'instance.compliance-changed',
  'instance.silent',
  'instance.removed',
  'instance.transferred',
  'instance.deregistered',
  'token.created',
  'token.revoked',
  'license.added',
  'license.transferred',
  'license.expiring',
  'reservation.created',
  'reservation.returned',
  'registration.refused',
] as const;

function describe(event: EventRow): string {
  return Object.entries(event.detail)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join('; ');
}

/** The Event Log tab: newest first, filtered by type and text, in pages, exported as CSV. */
export function EventsTab(props: { va: VirtualAccount }) {
  const { va } = props;
  const [type, setType] = useState('');
  const [text, setText] = useState('');
  const paged = usePaged(
    (cursor) =>
      api<Page<EventRow>>(
        'GET',
        `/virtual-accounts/${encodeURIComponent(va.id)}/events${query({ type, limit: PAGE_SIZE, cursor })}`,
      ),
    `${va.id}|${type}`,
  );
  const { page } = paged;
  const needle = text.toLowerCase();
  const shown = (page.data?.items ?? []).filter(
    (e) => !needle || `${e.type} ${e.actor} ${describe(e)}`.toLowerCase().includes(needle),
  );

  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setType(String(form.get('type') ?? ''));
    setText(String(form.get('text') ?? '').trim());
    paged.restart();
  };
  const exportCsv = () => {
    const rows = shown.map((e) => [e.at, e.type, e.actor, describe(e)]);
    download(`events-${va.name}.csv`, toCsv(['Time', 'Event', 'Actor', 'Detail'], rows), 'text/csv');
  };

  return (
    <>
      <h2>Event Log</h2>
      <search>
        <form onSubmit={submit} className="inline">
          <label>
            Event type
            <select name="type" defaultValue={type}>
              <option value="">All events</option>
              {TYPES.map((t) => (
                <option key={t} value={t}>
                  {t}
                </option>
              ))}
            </select>
          </label>
          <label>
            Search
            <input name="text" type="search" defaultValue={text} />
          </label>
          <button type="submit">Search</button>
          <button type="button" onClick={exportCsv}>
            Export CSV
          </button>
        </form>
      </search>
      <ErrorLine error={page.error} />
      <table>
        <caption className="sr-only">Event log of {va.name}</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Event</th>
            <th scope="col">Actor</th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody>
          {page.data && shown.length === 0 && (
            <tr>
              <td colSpan={4}>No events{type || text ? ' match the search' : ''}.</td>
            </tr>
          )}
          {shown.map((e) => (
            <tr key={e.id}>
              <td>
                <When at={e.at} />
              </td>
              <td>{e.type}</td>
              <td>{e.actor}</td>
              <td className="detail">{describe(e)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <Pager paged={paged} previous="Newer" next="Older" />
    </>
  );
}
