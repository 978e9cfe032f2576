import { useEffect, useState } from 'react';
import { ApiError, api, type UsageSeries } from '../api.js';
import { ErrorLine } from '../components/notice.js';
import { Pickers } from '../components/pickers.js';
import { UsageChart } from '../components/usage-chart.js';
import { useLoad } from '../components/use-load.js';
import { usePortal } from '../places.js';
import { navigate, pathOf } from '../router.js';
import { loadForecast } from './licenses-tab.js';

const RANGES = [30, 90, 365] as const;

async function loadHistory(vaId: string, days: number): Promise<UsageSeries[] | null> {
  try {
    return await api<UsageSeries[]>('GET', `/vas/${encodeURIComponent(vaId)}/usage-history?days=${days}`);
  } catch (e) {
    if (e instanceof ApiError && e.status === 404 && e.message.startsWith('There is no route')) return null;
    throw e;
  }
}

/** Reports: usage over time per tag with the compliance forecast, and the downloadable reports. */
export function ReportsPage(props: { vaId: string | null }) {
  const { vas, accountId } = usePortal();
  const va = vas.find((v) => v.id === props.vaId);
  const [days, setDays] = useState<number>(90);
  useEffect(() => {
    if (props.vaId) return;
    const first = vas.find((v) => v.accountId === accountId);
    if (first) navigate(pathOf({ page: 'reports', vaId: first.id }), true);
  }, [props.vaId, vas, accountId]);
  const id = va?.id ?? '';
  const history = useLoad(async () => (id ? loadHistory(id, days) : []), `${id}|${days}`);
  const forecast = useLoad(async () => (id ? loadForecast(id) : []), id);

  return (
    <>
      <h1>Reports{va ? `: ${va.name}` : ''}</h1>
      <Pickers vaId={props.vaId} onVa={(vaId) => navigate(pathOf({ page: 'reports', vaId }))} />
      {va && (
        <>
          <h2>Usage over time</h2>
          <label>
            Period
            <select value={days} onChange={(e) => setDays(Number(e.target.value))}>
              {RANGES.map((r) => (
                <option key={r} value={r}>
                  Last {r} days
                </option>
              ))}
            </select>
          </label>
          <ErrorLine error={history.error ?? forecast.error} />
          {history.data === null && <p>This server does not keep usage history yet.</p>}
          {history.data?.length === 0 && <p>No usage snapshots yet: they are taken once a day.</p>}
          {history.data?.map((series) => (
            <section key={series.tag} aria-label={`Usage of ${series.name ?? series.tag}`}>
              <h3>{series.name ?? series.tag}</h3>
              <UsageChart series={series} forecast={forecast.data?.find((f) => f.tag === series.tag)} />
            </section>
          ))}
          <h2>Downloads</h2>
          <ul>
            {(['licenses', 'instances', 'usage'] as const).map((kind) => (
              <li key={kind}>
                <a href={`/api/v1/virtual-accounts/${encodeURIComponent(va.id)}/reports/${kind}?format=csv`} download>
                  {kind === 'licenses' ? 'Licenses' : kind === 'instances' ? 'Product instances' : 'Usage'} (CSV)
                </a>
              </li>
            ))}
          </ul>
        </>
      )}
    </>
  );
}
