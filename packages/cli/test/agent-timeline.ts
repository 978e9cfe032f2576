import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Agent,
  type AgentEvent,
  type AgentEventType,
  type AgentStatus,
  type AuthorizationStatus,
  type RegistrationStatus,
} from '@smartlic/agent';
import { ManualClock } from '@smartlic/protocol';
import { type RunningServer, startServer } from '@smartlic/server';
import { expect } from 'vitest';

/** A value expected in row `i` of a repeated row (or the same in every repetition). */
export type PerRow<T> = T | ((i: number) => T);

/**
 * One row of a timeline table. Times are offsets (ms) from the timeline's start; `at` defaults to
 * the agent's next wake-up. `act` defaults to `runDue`. Every expectation given is checked after
 * the row; `events` must be exactly the events the row emitted, in order.
 */
export interface Row {
  what: string;
  at?: PerRow<number>;
  act?: (t: Timeline) => Promise<unknown>;
  repeat?: number;
  reg?: RegistrationStatus;
  auth?: AuthorizationStatus;
  events?: PerRow<AgentEventType[]>;
  /** Next communication (authorization) attempt; null: none. */
  next?: PerRow<number | null>;
  /** Communication deadline; null: none. */
  deadline?: PerRow<number | null>;
  /** Next ID certificate renewal attempt; null: none. */
  renewal?: PerRow<number | null>;
  /** Registration expires (ID certificate expiry); null: none. */
  expires?: PerRow<number | null>;
  /** Next registration attempt; null: none. */
  nextRegistration?: PerRow<number | null>;
  /** Evaluation period remaining. */
  evaluation?: PerRow<number>;
  /** `agent.nextWakeAt()`; null: nothing scheduled. */
  wake?: PerRow<number | null>;
  /** Authorization failure reason; null: none. */
  failure?: PerRow<string | null>;
  /** Registration failure reason; null: none. */
  registrationFailure?: PerRow<string | null>;
}

const value = <T>(v: PerRow<T>, i: number): T => (typeof v === 'function' ? (v as (i: number) => T)(i) : v);

/** A device (the real agent) and a real authority (`startServer`) on one ManualClock. */
export class Timeline {
  readonly clock: ManualClock;
  readonly events: AgentEvent[] = [];
  agent!: Agent;
  server: RunningServer | undefined;
  apiKey = '';
  port = 0;
  rootCaPem = '';
  private constructor(
    readonly start: number,
    readonly dir: string,
  ) {
    this.clock = new ManualClock(start);
  }

  /** Starts an authority and creates a device (no jitter: `random = () => 0`) whose state lives in a temp dir. */
  static async create(start: number): Promise<Timeline> {
    const t = new Timeline(start, await mkdtemp(join(tmpdir(), 'smartlic-timeline-')));
    await t.startAuthority();
    t.apiKey = (await readFile(t.server?.adminKeyPath ?? '', 'utf8')).trim();
    t.rootCaPem = await readFile(t.server?.rootCaPath ?? '', 'utf8');
    t.agent = await Agent.init(
      { pid: 'C9300-24UX', sn: 'FCW2134L0RN', hostname: 'sw1' },
      {
        stateDir: join(t.dir, 'device'),
        clock: t.clock,
        random: () => 0,
        onEvent: (e) => t.events.push(e),
        requestTimeoutMs: 5_000,
      },
    );
    return t;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts (or restarts, on the same port and data) the authority. */
  async startAuthority(): Promise<void> {
    this.server = await startServer({
      dataDir: join(this.dir, 'authority'),
      port: this.port,
      clock: this.clock,
      logLevel: 'silent',
    });
    this.port = Number(new URL(this.server.url).port);
  }

  /** Stops the authority; its port is then closed ("a dead one"). */
  async stopAuthority(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  /** Calls the admin REST API. */
  async api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return JSON.parse(text) as T;
  }

  /** A Smart Account with one VA holding `count` licenses of `tag`; returns the VA id. */
  async account(tag: string, count: number): Promise<string> {
    const account = await this.api<{ id: string }>('POST', '/api/v1/accounts', {
      name: 'Timeline Corp',
      domain: 'example.com',
    });
    const va = await this.api<{ id: string }>('POST', `/api/v1/accounts/${account.id}/virtual-accounts`, {
      name: 'Lab',
    });
    await this.addLicenses(va.id, tag, count);
    return va.id;
  }

  async addLicenses(vaId: string, tag: string, count: number): Promise<void> {
    await this.api('POST', `/api/v1/virtual-accounts/${vaId}/licenses`, { tag, count, name: 'Network Advantage' });
  }

  async token(vaId: string): Promise<{ id: string; token: string }> {
    return this.api('POST', `/api/v1/virtual-accounts/${vaId}/tokens`, { description: 'timeline', days: 365 });
  }

  close(): Promise<void> {
    return (async () => {
      await this.stopAuthority();
      await rm(this.dir, { recursive: true, force: true });
    })();
  }

  /** Runs the rows in order, checking each; returns the number of steps taken. */
  async walk(rows: readonly Row[]): Promise<number> {
    let steps = 0;
    for (const row of rows) {
      for (let i = 0; i < (row.repeat ?? 1); i++) {
        await this.step(row, i);
        steps++;
      }
    }
    return steps;
  }

  private async step(row: Row, i: number): Promise<void> {
    const label = `${row.what}${row.repeat ? ` #${i + 1}` : ''}`;
    const at = row.at === undefined ? this.agent.nextWakeAt() : this.start + value(row.at, i);
    expect(at, `${label}: something to wake up for`).toBeDefined();
    expect(at ?? 0, `${label}: time only moves forwards`).toBeGreaterThanOrEqual(this.clock.now());
    this.clock.set(at ?? 0);
    const seen = this.events.length;
    await (row.act ? row.act(this) : this.agent.runDue());
    const s = this.agent.status();
    const rel = (iso: string | null) => (iso === null ? null : Date.parse(iso) - this.start);
    const check = <T>(field: PerRow<T> | undefined, actual: T, what: string) => {
      if (field !== undefined) expect(actual, `${label} at ${this.day()}: ${what}`).toEqual(value(field, i));
    };
    check(row.reg, s.registration.status, 'registration status');
    check(row.auth, s.authorization.status, 'authorization status');
    check(
      row.events,
      this.events.slice(seen).map((e) => e.type),
      'events',
    );
    check(row.next, rel(s.authorization.nextCommunicationAttempt), 'next communication attempt');
    check(row.deadline, rel(s.authorization.communicationDeadline), 'communication deadline');
    check(row.renewal, rel(s.registration.nextRenewalAttempt), 'next renewal attempt');
    check(row.expires, rel(s.registration.registrationExpires), 'registration expires');
    check(row.nextRegistration, rel(s.registration.nextRegistrationAttempt), 'next registration attempt');
    check(row.evaluation, s.evaluation.remainingMs, 'evaluation period remaining');
    const wake = this.agent.nextWakeAt();
    check(row.wake, wake === undefined ? null : wake - this.start, 'next wake-up');
    check(row.failure, s.authorization.failureReason, 'authorization failure reason');
    check(row.registrationFailure, s.registration.failureReason, 'registration failure reason');
    if (wake !== undefined)
      expect(wake, `${label}: the next wake-up lies in the future`).toBeGreaterThan(this.clock.now());
  }

  /** The current time as `day N + hh:mm` for messages. */
  day(): string {
    const ms = this.clock.now() - this.start;
    const days = Math.floor(ms / 86_400_000);
    return `day ${days} + ${new Date(ms - days * 86_400_000).toISOString().slice(11, 16)}`;
  }

  status(): AgentStatus {
    return this.agent.status();
  }
}
