import { appendFileSync, closeSync, fstatSync, openSync, readSync, renameSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentEvent } from '../events.js';

/** The event log of a state directory: JSON lines, newest last. */
export const EVENT_LOG_FILE = 'eventlog.jsonl';
/** The older half of the event log, kept after a rotation. */
export const EVENT_LOG_PREVIOUS_FILE = 'eventlog.1.jsonl';

/** How much the event log keeps. */
export interface EventLogLimits {
  /** Most entries `read` returns (the newest). Default: 1,000. */
  maxEntries: number;
  /** Most bytes both files hold together (each at most half of it). Default: 256 KiB. */
  maxBytes: number;
}

/** The default bounds: the last 1,000 entries, at most 256 KiB on disk. */
export const DEFAULT_EVENT_LOG_LIMITS: EventLogLimits = { maxEntries: 1000, maxBytes: 256 * 1024 };

/** Longest message kept in the log; longer ones are cut. */
const MAX_MESSAGE = 2000;

/**
 * The agent's bounded on-disk event log (`show license eventlog`): every event as one JSON line in
 * `eventlog.jsonl` (mode 0600). When that file reaches half the byte bound it becomes
 * `eventlog.1.jsonl` (an atomic rename replacing the older half) and a new one starts, so the
 * log never holds more than `maxBytes` and always keeps at least the newest half of that;
 * `read` returns the newest `maxEntries` of what is kept. Appends are small synchronous `O_APPEND`
 * writes, safe between processes sharing the directory (a rotation racing another process's
 * append may lose that line). Nothing here ever throws into the host: I/O errors are counted
 * in `failures`.
 */
export class EventLog {
  private failed = 0;
  /** Whether this instance has checked that the file ends with a complete line. */
  private checkedTail = false;
  /** The size limits in force. */
  readonly limits: EventLogLimits;

  constructor(
    /** The directory of `eventlog.jsonl`. */
    readonly dir: string,
    limits: Partial<EventLogLimits> = {},
  ) {
    this.limits = { ...DEFAULT_EVENT_LOG_LIMITS, ...limits };
  }

  /** Writes that failed (the events were dropped). */
  get failures(): number {
    return this.failed;
  }

  /** Appends `event`; rotates first when the current file is full. Never throws. */
  append(event: AgentEvent): void {
    try {
      const current = join(this.dir, EVENT_LOG_FILE);
      let line = `${JSON.stringify(entryOf(event))}\n`;
      if (!this.checkedTail) {
        // A process that crashed mid-write may have left half a line: end it, so it alone is lost.
        if (!endsWithNewline(current)) line = `\n${line}`;
        this.checkedTail = true;
      }
      if (sizeOf(current) + Buffer.byteLength(line) > this.limits.maxBytes / 2) {
        renameSync(current, join(this.dir, EVENT_LOG_PREVIOUS_FILE));
      }
      appendFileSync(current, line, { mode: 0o600 });
    } catch {
      this.failed++;
    }
  }

  /** The newest `limit` entries (default `maxEntries`), oldest first; damaged lines are skipped. */
  async read(limit = this.limits.maxEntries): Promise<AgentEvent[]> {
    return readEventLog(this.dir, limit);
  }
}

/** The newest `limit` entries of the event log in `dir`, oldest first; an absent log is empty. */
export async function readEventLog(dir: string, limit = DEFAULT_EVENT_LOG_LIMITS.maxEntries): Promise<AgentEvent[]> {
  const texts = await Promise.all(
    [EVENT_LOG_PREVIOUS_FILE, EVENT_LOG_FILE].map((name) => readFile(join(dir, name), 'utf8').catch(() => '')),
  );
  const events: AgentEvent[] = [];
  for (const line of texts.join('').split('\n')) {
    const event = parseEntry(line);
    if (event) events.push(event);
  }
  return limit <= 0 ? [] : events.slice(-limit);
}

/** One event as the log shows it: `2026-01-01T09:00:00Z %SMART_LIC-6-AGENT_REG_SUCCESS: …`. */
export function formatEventLogLine(event: AgentEvent): string {
  return `${new Date(event.at).toISOString().replace(/\.\d{3}Z$/, 'Z')} ${event.name}: ${event.message}`;
}

function entryOf(event: AgentEvent): AgentEvent {
  const message = event.message.length > MAX_MESSAGE ? `${event.message.slice(0, MAX_MESSAGE)}…` : event.message;
  return { type: event.type, name: event.name, severity: event.severity, at: event.at, message };
}

/** True for an absent or empty file, or one whose last byte is a newline. */
function endsWithNewline(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    if (size === 0) return true;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] === 0x0a;
  } catch {
    return true;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function parseEntry(line: string): AgentEvent | undefined {
  if (line.trim() === '') return undefined;
  try {
    const value = JSON.parse(line) as Partial<AgentEvent>;
    if (typeof value.type !== 'string' || typeof value.at !== 'number' || typeof value.message !== 'string') {
      return undefined;
    }
    if (typeof value.name !== 'string' || typeof value.severity !== 'number') return undefined;
    return value as AgentEvent;
  } catch {
    return undefined;
  }
}

/**
 * The event handler the runtime calls: appends to `log` (if any), then calls the host's handler
 * (an exception it throws is the runtime's to swallow). Undefined when there is neither.
 */
export function eventSink(
  log: EventLog | undefined,
  host: ((event: AgentEvent) => void) | undefined,
): ((event: AgentEvent) => void) | undefined {
  if (!log) return host;
  return (event) => {
    log.append(event);
    host?.(event);
  };
}
