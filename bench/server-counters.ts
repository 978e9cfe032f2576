import { median } from './authority-load.js';

// What a server's `GET /metrics` says of a measured window, for the device benchmarks: how much
// of the time its event loop was running callbacks (wall time, where /proc gives its CPU time; the
// difference is time the loop was busy but off the CPU: waiting for a core or in the kernel), and
// what its group commit did (SQLite). A build from before these counters gives none of them.

/** The counters read once. */
export interface ServerCounters {
  at: number;
  loopActiveSeconds?: number;
  batches?: number;
  units?: number;
  syncs?: number;
  syncSeconds?: number;
  restarts?: number;
  restartSeconds?: number;
}

/** What the server did between two readings. */
export interface WindowFigures {
  /** Share of the window the event loop was active (0–1). */
  loopActive?: number;
  /** Units per group commit, on average. */
  unitsPerBatch?: number;
  /** Milliseconds an fdatasync of the WAL took, on average. */
  syncMs?: number;
  /** Share of the window during which a WAL sync was running (0–1). */
  syncBusy?: number;
  /** Times the log started over, and the writer's mean wait for it in milliseconds. */
  restarts?: number;
  restartWaitMs?: number;
}

const COUNTERS: Record<Exclude<keyof ServerCounters, 'at'>, string> = {
  loopActiveSeconds: 'nodejs_eventloop_active_seconds_total',
  batches: 'smartlic_commit_batches_total',
  units: 'smartlic_commit_units_total',
  syncs: 'smartlic_wal_syncs_total',
  syncSeconds: 'smartlic_wal_sync_seconds_total',
  restarts: 'smartlic_wal_restarts_total',
  restartSeconds: 'smartlic_wal_restart_wait_seconds_total',
};

/** Reads the counters of the server at `url` (absent ones stay undefined). */
export async function readServerCounters(url: string): Promise<ServerCounters> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const counters: ServerCounters = { at: performance.now() };
  // Each counter is one unlabelled sample: `name value`.
  const samples = new Map(text.split('\n').map((line) => [line.slice(0, line.indexOf(' ')), line]));
  for (const [field, name] of Object.entries(COUNTERS) as Array<[keyof typeof COUNTERS, string]>) {
    const line = samples.get(name);
    if (line !== undefined) counters[field] = Number(line.slice(name.length + 1));
  }
  return counters;
}

/** The figures of the window between `before` and `after`. */
export function windowFigures(before: ServerCounters, after: ServerCounters): WindowFigures {
  const seconds = (after.at - before.at) / 1000;
  const delta = (field: keyof typeof COUNTERS): number | undefined => {
    const [a, b] = [before[field], after[field]];
    return a === undefined || b === undefined ? undefined : b - a;
  };
  const [active, batches, units, syncs, syncSeconds, restarts, restartSeconds] = (
    ['loopActiveSeconds', 'batches', 'units', 'syncs', 'syncSeconds', 'restarts', 'restartSeconds'] as const
  ).map(delta);
  return {
    ...(active === undefined ? {} : { loopActive: active / seconds }),
    ...(batches && units !== undefined ? { unitsPerBatch: units / batches } : {}),
    ...(syncs && syncSeconds !== undefined ? { syncMs: (1000 * syncSeconds) / syncs } : {}),
    ...(syncSeconds === undefined ? {} : { syncBusy: syncSeconds / seconds }),
    ...(restarts === undefined ? {} : { restarts }),
    ...(restarts && restartSeconds !== undefined ? { restartWaitMs: (1000 * restartSeconds) / restarts } : {}),
  };
}

/** Each figure's median over `windows` (a figure any window lacks is left out). */
function medianWindow(windows: WindowFigures[]): WindowFigures {
  const figures: WindowFigures = {};
  for (const key of ['loopActive', 'unitsPerBatch', 'syncMs', 'syncBusy', 'restarts', 'restartWaitMs'] as const) {
    const values = windows.map((w) => w[key]);
    if (values.length > 0 && values.every((v) => v !== undefined)) figures[key] = median(values as number[]);
  }
  return figures;
}

/**
 * The window as a sentence (empty when the server gave no counters): the event loop's activity
 * beside `loopCpu`, its CPU share from /proc, and the group commit.
 */
function describeWindow(figures: WindowFigures, loopCpu: number | undefined): string {
  const parts: string[] = [];
  const pct = (share: number) => `${(100 * share).toFixed(0)}%`;
  if (figures.loopActive !== undefined) {
    parts.push(
      `the event loop was active ${pct(figures.loopActive)} of the time${loopCpu === undefined ? '' : ` (on the CPU ${pct(loopCpu)}: the rest it was busy but waiting for a core or in the kernel)`}`,
    );
  }
  if (figures.unitsPerBatch !== undefined && figures.syncMs !== undefined && figures.syncBusy !== undefined) {
    parts.push(
      `group commits held ${figures.unitsPerBatch.toFixed(1)} units on average, their WAL syncs took ${figures.syncMs.toFixed(2)} ms, and a sync was running ${pct(figures.syncBusy)} of the time`,
    );
  }
  if (figures.restarts !== undefined) {
    parts.push(
      `the log started over ${figures.restarts.toFixed(0)} times${figures.restartWaitMs === undefined ? '' : `, the writer waiting ${figures.restartWaitMs.toFixed(1)} ms for it on average`}`,
    );
  }
  return parts.length === 0 ? '' : `${parts.join('; ')}.`;
}

/**
 * The sentence a device benchmark prints of its measured windows: each figure's median over
 * `windows`, beside the event loop's CPU share (medians of `loopCpuShares`, 0–1; none where /proc
 * gave none). `lead` opens it. None at all from a build without the counters.
 */
export function windowSentence(windows: WindowFigures[], loopCpuShares: number[] | undefined, lead: string): string[] {
  const text = describeWindow(medianWindow(windows), loopCpuShares === undefined ? undefined : median(loopCpuShares));
  return text === '' ? [] : [`${lead} ${text}`];
}
