import { mkdir } from 'node:fs/promises';
import { basename } from 'node:path';
import {
  type Clock,
  type LegacyLicense,
  type SlacRequestFile,
  SmartlicError,
  systemClock,
  type UsageFile,
} from '@smartlic/protocol/core';
import { authorize } from './actions/authorize.js';
import { type ConversionReport, reportLegacyLicenses } from './actions/convert.js';
import { deregister } from './actions/deregister.js';
import { configureDestination, type DestinationOptions, type DestinationResult } from './actions/destination.js';
import { register } from './actions/register.js';
import { renewId } from './actions/renew-id.js';
import { runDue } from './actions/run-due.js';
import { declareUsage } from './actions/use.js';
import { nextWakeAt } from './core/scheduler.js';
import { completeIdentity } from './device-identity.js';
import { newDeviceKey } from './device-key.js';
import { type AgentEnforcerOptions, agentEnforcer, cachedSnapshot } from './enforcement/agent-enforcement.js';
import type { Enforcer } from './enforcement/enforcer.js';
import type { LicenseSnapshot } from './enforcement/license-snapshot.js';
import { EventLog, type EventLogLimits, eventSink, readEventLog } from './event-log/event-log.js';
import { type AgentEvent, agentEvent } from './events.js';
import type { Outcome } from './outcome.js';
import { PolicyRuntime } from './policy/policy-runtime.js';
import { applyPolicy } from './policy/policy-status.js';
import {
  assertNotReserving,
  type ReservationAction,
  readReservation,
  runReservationAction,
} from './reservation/agent-reservation.js';
import type { ReservationStep } from './reservation/reservation-book.js';
import { emptyReservation, type ReservationState } from './reservation/reservation-state.js';
import { applyReservation, reservedSnapshot } from './reservation/reservation-status.js';
import { AgentRuntime } from './runtime.js';
import { type DeviceIdentity, initialState } from './state/agent-state.js';
import { StateLock } from './state/state-lock.js';
import { StateStore } from './state/state-store.js';
import { type AgentStatus, buildStatus } from './status/agent-status.js';

/** How the host wires the agent. The agent reads no environment variables and never logs. */
export interface AgentOptions {
  /** Directory of `state.json` and `device-key.pem` (created 0700 by `init`). */
  stateDir: string;
  /** Default: the system clock. */
  clock?: Clock;
  /** Randomness for jitter and default serial numbers. Default: `Math.random`. */
  random?: () => number;
  /** Receives every event; exceptions it throws are swallowed. */
  onEvent?: (event: AgentEvent) => void;
  /** Timeout of one request to the authority. Default: 30 s. */
  requestTimeoutMs?: number;
  /**
   * The bounded event log `<stateDir>/eventlog.jsonl` (`show license eventlog`). Default: on, with
   * the last 1,000 entries / 256 KiB; `false` turns it off.
   */
  eventLog?: false | Partial<EventLogLimits>;
  /**
   * How this process is named in the state directory's writer lock (`state.lock`), so that a
   * process refused by it learns who holds it. Default: the process's command line.
   */
  processName?: string;
  /**
   * How long to wait for another process's writer lock to be released before refusing with
   * `STATE_LOCKED` (ms). Default: 2 s, enough for a short command such as `show` to end; a
   * daemon such as `smartlic device run` holds its lock for as long as it runs.
   */
  lockWaitMs?: number;
}

/** How `Agent.open` opens an existing state. */
export interface AgentOpenOptions extends AgentOptions {
  /**
   * Reads the state without taking its writer lock, so it works while another process (such as
   * `smartlic device run`) holds it: nothing is ever written (not even the event log or the clock
   * reading), and every method that would change the state rejects with `BAD_REQUEST`.
   */
  readOnly?: boolean;
}

/** Default time to wait for another process's writer lock. */
export const DEFAULT_LOCK_WAIT_MS = 2000;

/** Default timeout of one request to the authority. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

function eventLogOf(options: AgentOpenOptions): EventLog | undefined {
  return options.eventLog === false || options.readOnly ? undefined : new EventLog(options.stateDir, options.eventLog);
}

function runtimeDeps(options: AgentOpenOptions, log: EventLog | undefined) {
  const onEvent = eventSink(log, options.onEvent);
  return {
    store: new StateStore(options.stateDir),
    readOnly: options.readOnly === true,
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    ...(onEvent ? { onEvent } : {}),
  };
}

/** Takes the writer lock of `options.stateDir` (which must exist), or throws `STATE_LOCKED`. */
function lockStateDir(options: AgentOptions): Promise<StateLock> {
  return StateLock.acquire(
    options.stateDir,
    options.processName ?? [basename(process.argv[0] ?? 'node'), ...process.argv.slice(1)].join(' '),
    { waitMs: options.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS },
  );
}

function alreadyInitialised(dir: string): SmartlicError {
  return new SmartlicError('ALREADY_INITIALISED', {
    message: `A device is already initialised in ${dir}; its state was left as it was.`,
  });
}

/** Runs `create` under `lock`, releasing the lock when it fails. */
async function underLock<T>(lock: StateLock, create: () => Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (error) {
    await lock.release();
    throw error;
  }
}

/**
 * The Smart Agent a product embeds: its identity, registration, authorization renewals,
 * evaluation clock and status. Every change is saved before a method resolves. Protocol
 * failures are `Outcome`s and events, never exceptions; methods throw only for misuse
 * (bad arguments) and for a state directory that cannot be read or written.
 *
 * An agent opened to write holds the state directory's writer lock (`state.lock`) until `close()`
 * (or the end of the process): a second writer, in this process or another, is refused with
 * `STATE_LOCKED` rather than overwrite this one's saves. `Agent.open(…, readOnly: true)` reads alongside it.
 */
export class Agent {
  private snapshot: (() => LicenseSnapshot) | undefined;
  /** The offline reservation (`reservation.json`), as last read or written by this agent. */
  private reserved: ReservationState = emptyReservation();
  /** The policy model (`policy.json`), on a device initialised with `model: 'policy'`. */
  private policyRt: PolicyRuntime | undefined;
  private closed = false;

  private constructor(
    private readonly rt: AgentRuntime,
    private readonly log: EventLog | undefined,
    private readonly lock: StateLock | undefined,
  ) {}

  /**
   * Creates the state dir (0700), the device key (`device-key.pem`, 0600) and the state; refuses
   * (`ALREADY_INITIALISED`) if a state already exists, and (`STATE_CORRUPT`) where a device key
   * was left without its state, which would restart the evaluation period. `sn` defaults to a random serial,
   * `softwareTag` to `regid.2026-01.org.smartlic.<pid>`, `profile` to `catalyst`. `model: 'policy'`
   * makes a device of Smart Licensing Using Policy (SPEC §9): it installs a trust code and reports
   * usage instead of registering (`policy.json` beside the state).
   */
  static async init(
    identity: Partial<DeviceIdentity> & { pid: string; model?: 'registration' | 'policy' },
    options: AgentOptions,
  ): Promise<Agent> {
    const log = eventLogOf(options);
    const deps = runtimeDeps(options, log);
    const { model = 'registration', ...given } = identity;
    const complete = completeIdentity(given, deps.random);
    if (await deps.store.exists()) throw alreadyInitialised(options.stateDir);
    await deps.store.assertNoOrphanKey();
    await mkdir(options.stateDir, { recursive: true, mode: 0o700 });
    const lock = await lockStateDir(options);
    return underLock(lock, async () => {
      // Another process may have initialised it between the check above and the lock.
      if (await deps.store.exists()) throw alreadyInitialised(options.stateDir);
      const key = newDeviceKey();
      const now = deps.clock.now();
      const state = initialState(complete, key.fingerprint, now);
      await deps.store.create(state, key);
      const rt = new AgentRuntime(deps, state, key);
      const agent = new Agent(rt, log, lock);
      if (model === 'policy') agent.policyRt = await PolicyRuntime.create(rt);
      rt.emit(agentEvent('AGENT_ENABLED', now, 'Smart Agent for Licensing is enabled'));
      return agent;
    });
  }

  /**
   * Loads an existing state. Throws `NOT_INITIALISED` when there is none ("This device is not
   * initialised.") and `STATE_CORRUPT` — with how to
   * recover — when it is unreadable, truncated, edited (its HMAC bound to the device key fails),
   * does not match its device key, or was removed while its device key was left. Takes the
   * writer lock, or throws `STATE_LOCKED` naming the live process that holds it; with `readOnly`
   * it takes no lock and never writes.
   */
  static async open(options: AgentOpenOptions): Promise<Agent> {
    const log = eventLogOf(options);
    const deps = runtimeDeps(options, log);
    if (deps.readOnly) {
      const { state, key } = await deps.store.load({ readOnly: true });
      const agent = new Agent(new AgentRuntime(deps, state, key), log, undefined);
      agent.reserved = await readReservation(agent.rt);
      agent.policyRt = await PolicyRuntime.load(agent.rt);
      return agent;
    }
    // No lock file in a directory that is not there: load() says what is wrong instead.
    if (!(await deps.store.exists())) await deps.store.load();
    const lock = await lockStateDir(options);
    return underLock(lock, async () => {
      const { state, key } = await deps.store.load();
      const agent = new Agent(new AgentRuntime(deps, state, key), log, lock);
      agent.reserved = await readReservation(agent.rt);
      agent.policyRt = await PolicyRuntime.load(agent.rt);
      await agent.syncReservedClock();
      return agent;
    });
  }

  /** True when this agent was opened `readOnly` or has been closed: it no longer changes the state. */
  get readOnly(): boolean {
    return this.lock === undefined || this.closed;
  }

  /**
   * Lets the operations already started end, then releases the writer lock. The agent can still
   * be read (`status()`); what would change the state rejects. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.rt.idle();
    await this.lock?.release();
  }

  /** `await using agent = await Agent.open(…)`: closes the agent. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Runs a state-changing operation after every earlier one; rejects on a read-only or closed agent. */
  private write<T>(operation: () => Promise<T>): Promise<T> {
    if (this.readOnly) {
      const why = this.closed ? 'was closed' : 'was opened read-only';
      return Promise.reject(
        new SmartlicError('BAD_REQUEST', {
          message: `This agent ${why}: it does not change the device state in ${this.stateDir}.`,
          context: { dir: this.stateDir },
        }),
      );
    }
    return this.rt.exclusive(operation);
  }

  /** The state directory. */
  get stateDir(): string {
    return this.rt.deps.store.dir;
  }

  /**
   * Sets the call-home URL (http/https) and optionally an HTTP(S) `proxy`. `authorityRootPem`: the
   * authority's root CA (PEM bundle), added to the trust anchors that response signatures must
   * chain to (and trusted for TLS). `trustPem`: extra TLS trust points, e.g. a TLS-intercepting
   * proxy's CA, trusted for HTTPS connections only and never to sign responses. Both lists only
   * grow. When no trust anchor is known after this, the authority's root CA is fetched from
   * `GET /api/v1/pki/root-ca` and pinned (trust on first use); its SHA-256 fingerprint is returned.
   */
  setDestination(url: string, options: DestinationOptions = {}): Promise<DestinationResult> {
    return this.write(() => configureDestination(this.rt, url, options));
  }

  /** The product declares `count` of `tag` in use (0 removes the tag). If registered, authorizes at once. */
  use(tag: string, count: number): Promise<Outcome> {
    const policy = this.policyRt;
    if (policy) return this.write(() => policy.use(tag, count));
    return this.write(() => declareUsage(this.rt, tag, count));
  }

  /** The licensing model of this device: `registration` (SPEC §4–7) or `policy` (Smart Licensing Using Policy, SPEC §9). */
  get model(): 'registration' | 'policy' {
    return this.policyRt ? 'policy' : 'registration';
  }

  private requirePolicy(): PolicyRuntime {
    if (this.policyRt) return this.policyRt;
    throw new SmartlicError('BAD_REQUEST', {
      message:
        'This device runs the registration model: trust codes and usage reports are for a device initialised with --model policy.',
    });
  }

  /**
   * Policy model: installs a trust code with an ID token (`license smart trust idtoken TOKEN [local|all]
   * [force]`); refused when one is installed unless `force`, and by the authority when the device clock
   * is more than an hour off. On a registration-model device it switches the device to the policy model
   * (a registered one keeps its product instance and usage); refused while a reservation is enabled.
   */
  trust(idToken: string, options: { scope?: 'local' | 'all'; force?: boolean } = {}): Promise<Outcome> {
    return this.write(async () => {
      const scope = options.scope ?? 'local';
      const force = options.force ?? false;
      if (this.policyRt) return this.policyRt.trust(idToken, scope, force);
      // A registration-model device switches to the policy model (ADR 0018): its declared usage is
      // measured from now on, and a registered one keeps its product instance (trust with force).
      this.reserved = await readReservation(this.rt);
      assertNotReserving(this.reserved);
      const switching = PolicyRuntime.switching(this.rt);
      const registered = this.rt.state.registration.certificate !== undefined;
      const outcome = await switching.trust(idToken, scope, force || registered);
      if (outcome.ok) this.policyRt = switching;
      return outcome;
    });
  }

  /** Policy model: reports the unacknowledged usage to the authority and takes its ACK (`license smart sync all`). */
  syncUsage(): Promise<Outcome> {
    return this.write(() => this.requirePolicy().sync());
  }

  /**
   * Policy model: the usage file of `license smart save usage all|unreported FILE` (the host writes it):
   * every unacknowledged signed report, or those not yet written to a file.
   */
  saveUsage(which: 'all' | 'unreported'): Promise<UsageFile> {
    return this.write(() => this.requirePolicy().saveUsage(which));
  }

  /**
   * Policy model: the SLAC request file of `license smart authorization request save FILE` (the
   * host writes it), signed with the trust-code key, for `count` of `tag`.
   */
  saveAuthorizationRequest(tag: string, count = 1): Promise<SlacRequestFile> {
    return this.write(() => this.requirePolicy().saveAuthorizationRequest([{ tag, count }]));
  }

  /**
   * Policy model: imports an ACK file or a SLAC file (`license smart import FILE`); one for another
   * device, or not signed under a trust anchor, is refused.
   */
  importAck(fileText: string): Promise<Outcome> {
    return this.write(() => this.requirePolicy().importAck(fileText));
  }

  /** Policy model: asks for a Smart Licensing Authorization Code for `count` of `tag` and installs it. */
  requestAuthorization(tag: string, count = 1): Promise<Outcome> {
    return this.write(() => this.requirePolicy().requestAuthorization([{ tag, count }]));
  }

  /** Policy model: returns the installed authorization codes (`license smart authorization return local`). */
  returnAuthorization(): Promise<Outcome> {
    return this.write(() => this.requirePolicy().returnAuthorization());
  }

  /** Registers with an ID token; on success the declared usage is authorized at once (`followUps`). */
  register(idToken: string, options: { force?: boolean } = {}): Promise<Outcome> {
    if (this.policyRt) {
      const message =
        'This device runs Smart Licensing Using Policy: install a trust code (license smart trust idtoken TOKEN) instead of registering.';
      return Promise.resolve({ action: 'register', ok: false, code: 'BAD_REQUEST', message });
    }
    return this.write(async () => {
      this.reserved = await readReservation(this.rt);
      assertNotReserving(this.reserved);
      return register(this.rt, idToken, options.force ?? false);
    });
  }

  /** Deregisters; the local registration is removed even when the authority cannot be reached (the outcome says so). */
  deregister(): Promise<Outcome> {
    return this.write(() => deregister(this.rt));
  }

  /**
   * Device-led conversion (`license smart conversion start`): reports the legacy licenses the
   * device holds; the authority deposits each into the device's VA once. Never throws.
   */
  reportLegacyLicenses(licenses: readonly LegacyLicense[]): Promise<ConversionReport> {
    return this.write(() => reportLegacyLicenses(this.rt, licenses));
  }

  /** Renews the ID certificate now (`license smart renew id`). */
  renewId(): Promise<Outcome> {
    return this.write(() => renewId(this.rt));
  }

  /** Renews the authorization now (`license smart renew auth`). */
  renewAuthorization(): Promise<Outcome> {
    return this.write(() => authorize(this.rt));
  }

  /** Runs whatever is due at `clock.now()` (registration retry, ID renewal, authorization renewal or retry, expiries). */
  runDue(): Promise<Outcome[]> {
    const policy = this.policyRt;
    if (policy) return this.write(() => policy.runDue());
    return this.write(async () => {
      // While a reservation is installed there is nothing to renew and nobody to call.
      this.reserved = await readReservation(this.rt);
      if (this.reserved.installed) return [];
      return runDue(this.rt);
    });
  }

  /**
   * When `runDue` next has something to do, on the host's clock (ms since the epoch), or
   * undefined. It can be now or past (something is due: call `runDue`).
   */
  nextWakeAt(): number | undefined {
    if (this.reserved.installed) return undefined;
    const at = this.policyRt ? this.policyRt.nextWakeAt() : nextWakeAt(this.rt.state);
    if (at === undefined) return undefined;
    const { now, wall } = this.rt.readClock();
    return at - (now - wall);
  }

  /** The status at `clock.now()`: what `show license status --json` prints. Reads the state as it is in memory. */
  status(): AgentStatus {
    const { now, wall } = this.rt.readClock();
    return this.withPolicy(applyReservation(buildStatus(this.rt.state, now, wall), this.reserved));
  }

  private withPolicy(status: AgentStatus): AgentStatus {
    return this.policyRt ? applyPolicy(status, this.policyRt.state) : status;
  }

  /**
   * The status at `clock.now()`, like `status()`, on the state as last saved by any process; the
   * clock reading is kept in the state (saved atomically when time advanced), so that a clock set
   * back afterwards is noticed (`%SMART_LIC-4-CLOCK_BACKWARDS`) and gives no evaluation time back.
   * What `show license …` uses. A state that cannot be saved is reported (`CONFIG_NOT_SAVED`), not thrown.
   * A read-only agent keeps nothing: the process holding the lock keeps its own clock readings.
   */
  readStatus(): Promise<AgentStatus> {
    return this.rt.exclusive(async () => {
      const { now, wall } = this.readOnly
        ? this.rt.readClock()
        : await this.rt.recordClock().catch(() => this.rt.readClock());
      await this.policyRt?.refresh();
      return this.withPolicy(applyReservation(buildStatus(this.rt.state, now, wall), this.reserved));
    });
  }

  /**
   * Offline license reservation (SPEC §7): `enable` (optionally importing the authority's root as a
   * trust point), `disable`, `request` (answers the request code), `cancel`, `install` (answers a
   * confirmation code for an update), `return` and `return-authorization` (answer a return code).
   * Refusals throw a `SmartlicError` with one clear message and change nothing.
   */
  reservation(action: ReservationAction): Promise<ReservationStep> {
    return this.write(async () => {
      const { state, step } = await runReservationAction(this.rt, action);
      this.reserved = state;
      await this.syncReservedClock();
      return step;
    });
  }

  /** Tells the core whether a reservation is installed, so that the evaluation clock stops while one is. */
  private async syncReservedClock(): Promise<void> {
    const installed = this.reserved.installed !== undefined;
    if (installed !== (this.rt.state.evaluation.reserved === true)) {
      await this.rt.commit({ type: 'reservation-changed', installed });
    }
  }

  /**
   * An enforcer of this device's profile (SPEC §6) on its live licensing state: `isAllowed`,
   * `decision`, counted resources (`acquire`/`release`), CPS limiters. Its events reach `onEvent`
   * and the event log. Throws `BAD_REQUEST` for a profile name that is neither built in nor given.
   */
  createEnforcer(options: AgentEnforcerOptions = {}): Enforcer {
    this.snapshot ??= reservedSnapshot(cachedSnapshot(this.rt), () => this.reserved);
    return agentEnforcer(this.rt, this.snapshot, options);
  }

  /** Whether export-controlled functionality may be enabled: registered with a token that allowed it. */
  exportControlledAllowed(): boolean {
    this.snapshot ??= reservedSnapshot(cachedSnapshot(this.rt), () => this.reserved);
    return this.snapshot().exportControlled;
  }

  /** The newest `limit` entries of the event log (default: all it keeps), oldest first. */
  eventLog(limit?: number): Promise<AgentEvent[]> {
    return readEventLog(this.stateDir, limit);
  }

  /** Event log writes that failed since this agent was opened (the events still reached `onEvent`). */
  get eventLogFailures(): number {
    return this.log?.failures ?? 0;
  }
}
