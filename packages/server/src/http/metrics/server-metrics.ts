import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { CommitStatistics } from '../../storage/transactor.js';
import { Collected, Counter, Histogram, Registry } from './registry.js';

/** Latency buckets in seconds: 1 ms … 10 s. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** What the server counts; built once per app (no module-level state), rendered at `GET /metrics`. */
export interface ServerMetrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status_class'>;
  httpDuration: Histogram<'method' | 'route'>;
  deviceMessages: Counter<'type' | 'outcome'>;
  authorizations: Counter<'status'>;
  /** Requests the device lane answered (`http/device-lane.ts`); the rest of a route's requests went to fastify. */
  deviceLane: Counter<'route'>;
  jobRuns: Counter<'outcome'>;
  webhookDeliveries: Counter<'outcome'>;
  /** Stops the event-loop delay monitor. */
  stop(): void;
}

/** The group commit's counters, as Prometheus counters: name, help, the figure. */
const COMMIT_COUNTERS: Array<[string, string, (s: CommitStatistics) => number]> = [
  [
    'smartlic_commit_batches_total',
    'SQLite group commits: batches committed, each one transaction and one WAL sync.',
    (s) => s.batches,
  ],
  ['smartlic_commit_units_total', 'SQLite group commits: units of work acknowledged as durable.', (s) => s.units],
  ['smartlic_wal_syncs_total', "fdatasync calls on SQLite's write-ahead log.", (s) => s.syncs],
  [
    'smartlic_wal_sync_seconds_total',
    "Wall time during which an fdatasync of SQLite's write-ahead log was running, in seconds.",
    (s) => s.syncSeconds,
  ],
  [
    'smartlic_wal_restarts_total',
    'Times the group commit held a batch while a checkpoint let the write-ahead log start over.',
    (s) => s.restarts,
  ],
  [
    'smartlic_wal_restart_wait_seconds_total',
    'Time the group commit held batches for the write-ahead log to start over, in seconds.',
    (s) => s.restartSeconds,
  ],
];

/**
 * The server's metrics with the process metrics (memory, CPU, event-loop lag and activity,
 * handles, start time), and, given `commits` (SQLite), the group commit's counters.
 */
export function createServerMetrics(commits?: () => CommitStatistics): ServerMetrics {
  const registry = new Registry();
  const loop = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();
  const startSeconds = Math.round((Date.now() - performance.now()) / 10) / 100;
  const metrics: ServerMetrics = {
    registry,
    httpRequests: registry.add(
      new Counter('smartlic_http_requests_total', 'HTTP requests by method, route pattern and status class.', [
        'method',
        'route',
        'status_class',
      ]),
    ),
    httpDuration: registry.add(
      new Histogram(
        'smartlic_http_request_duration_seconds',
        'HTTP request latency by method and route pattern.',
        ['method', 'route'],
        LATENCY_BUCKETS,
      ),
    ),
    deviceMessages: registry.add(
      new Counter(
        'smartlic_device_messages_total',
        'Device messages by type and outcome (ok, or the error code answered).',
        ['type', 'outcome'],
      ),
    ),
    authorizations: registry.add(
      new Counter('smartlic_authorizations_total', 'Successful device authorizations by compliance status.', [
        'status',
      ]),
    ),
    deviceLane: registry.add(
      new Counter(
        'smartlic_device_lane_requests_total',
        'Authorization requests answered by the device lane, ahead of the web framework (ADR 0026), by route pattern; requests it does not take (unusual headers, or while closing) are answered by the framework and not counted here.',
        ['route'],
      ),
    ),
    jobRuns: registry.add(
      new Counter(
        'smartlic_job_runs_total',
        'Runs of the lifecycle jobs (timer or POST /api/v1/jobs/run) by outcome.',
        ['outcome'],
      ),
    ),
    webhookDeliveries: registry.add(
      new Counter('smartlic_webhook_delivery_attempts_total', 'Webhook delivery attempts by outcome.', ['outcome']),
    ),
    stop: () => loop.disable(),
  };
  registry.add(
    new Collected('process_resident_memory_bytes', 'Resident memory size in bytes.', 'gauge', () =>
      process.memoryUsage.rss(),
    ),
  );
  registry.add(
    new Collected('nodejs_heap_used_bytes', 'V8 heap used in bytes.', 'gauge', () => process.memoryUsage().heapUsed),
  );
  registry.add(
    new Collected('nodejs_heap_total_bytes', 'V8 heap size in bytes.', 'gauge', () => process.memoryUsage().heapTotal),
  );
  registry.add(
    new Collected('process_cpu_seconds_total', 'User and system CPU time spent, in seconds.', 'counter', () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1e6;
    }),
  );
  registry.add(
    new Collected(
      'nodejs_eventloop_lag_p99_seconds',
      'Event-loop delay, 99th percentile since the previous scrape, in seconds.',
      'gauge',
      () => {
        const p99 = loop.percentile(99) / 1e9;
        loop.reset();
        return Number.isFinite(p99) ? p99 : 0;
      },
    ),
  );
  registry.add(
    new Collected(
      'nodejs_eventloop_active_seconds_total',
      "Time the event loop spent running callbacks rather than waiting for events, in seconds; its rate is the loop's utilization (1: saturated).",
      'counter',
      () => performance.eventLoopUtilization().active / 1000,
    ),
  );
  if (commits) {
    for (const [name, help, figure] of COMMIT_COUNTERS) {
      registry.add(new Collected(name, help, 'counter', () => figure(commits())));
    }
  }
  registry.add(
    new Collected(
      'nodejs_active_handles',
      'Active libuv handles and requests (sockets, timers, files).',
      'gauge',
      () => process.getActiveResourcesInfo().length,
    ),
  );
  registry.add(
    new Collected(
      'process_start_time_seconds',
      'Start time of the process since the Unix epoch, in seconds.',
      'gauge',
      () => startSeconds,
    ),
  );
  return metrics;
}
