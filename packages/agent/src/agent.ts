import { type Clock, SmartlicError, systemClock } from '@smartlic/protocol';
import { authorize } from './actions/authorize.js';
import { deregister } from './actions/deregister.js';
import { configureDestination, type DestinationResult } from './actions/destination.js';
import { register } from './actions/register.js';
import { renewId } from './actions/renew-id.js';
import { runDue } from './actions/run-due.js';
import { declareUsage } from './actions/use.js';
import { nextWakeAt } from './core/scheduler.js';
import { completeIdentity } from './device-identity.js';
import { newDeviceKey } from './device-key.js';
import { type AgentEvent, agentEvent } from './events.js';
import type { Outcome } from './outcome.js';
import { AgentRuntime } from './runtime.js';
import { type DeviceIdentity, initialState } from './state/agent-state.js';
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
}

/** Default timeout of one request to the authority. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

function runtimeDeps(options: AgentOptions) {
  return {
    store: new StateStore(options.stateDir),
    clock: options.clock ?? systemClock,
    random: options.random ?? Math.random,
    requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
    ...(options.onEvent ? { onEvent: options.onEvent } : {}),
  };
}

/**
 * The Smart Agent a product embeds: its identity, registration, authorization renewals,
 * evaluation clock and status. Every change is saved before a method resolves. Protocol
 * failures are `Outcome`s and events, never exceptions; methods throw only for misuse
 * (bad arguments) and for a state directory that cannot be read or written.
 */
export class Agent {
  private constructor(private readonly rt: AgentRuntime) {}

  /**
   * Creates the state dir (0700), the device key (`device-key.pem`, 0600) and the state; refuses
   * (`ALREADY_INITIALISED`) if a state already exists. `sn` defaults to a random serial,
   * `softwareTag` to `regid.2026-01.org.smartlic.<pid>`, `profile` to `catalyst`.
   */
  static async init(identity: Partial<DeviceIdentity> & { pid: string }, options: AgentOptions): Promise<Agent> {
    const deps = runtimeDeps(options);
    const complete = completeIdentity(identity, deps.random);
    if (await deps.store.exists()) {
      throw new SmartlicError('ALREADY_INITIALISED', {
        message: `A device is already initialised in ${options.stateDir}; its state was left as it was.`,
      });
    }
    const key = newDeviceKey();
    const now = deps.clock.now();
    const state = initialState(complete, key.fingerprint, now);
    await deps.store.create(state, key);
    const rt = new AgentRuntime(deps, state, key);
    rt.emit(agentEvent('AGENT_ENABLED', now, 'Smart Agent for Licensing is enabled'));
    return new Agent(rt);
  }

  /**
   * Loads an existing state. Throws `NOT_INITIALISED` when there is none ("This device is not
   * initialised: run `smartlic device init --pid PID` first.") and `STATE_CORRUPT` when it is
   * unreadable, truncated or does not match its device key.
   */
  static async open(options: AgentOptions): Promise<Agent> {
    const deps = runtimeDeps(options);
    const { state, key } = await deps.store.load();
    return new Agent(new AgentRuntime(deps, state, key));
  }

  /** The state directory. */
  get stateDir(): string {
    return this.rt.deps.store.dir;
  }

  /**
   * Sets the call-home URL (http/https). `trustPem`: a PEM bundle of extra trust anchors. When
   * no trust anchor is known at all after this, the authority's root CA is fetched from
   * `GET /api/v1/pki/root-ca` and pinned (trust on first use); its SHA-256 fingerprint is returned.
   */
  setDestination(url: string, options: { trustPem?: string; proxy?: string } = {}): Promise<DestinationResult> {
    return this.rt.exclusive(() => configureDestination(this.rt, url, options));
  }

  /** The product declares `count` of `tag` in use (0 removes the tag). If registered, authorizes at once. */
  use(tag: string, count: number): Promise<Outcome> {
    return this.rt.exclusive(() => declareUsage(this.rt, tag, count));
  }

  /** Registers with an ID token; on success the declared usage is authorized at once (`followUps`). */
  register(idToken: string, options: { force?: boolean } = {}): Promise<Outcome> {
    return this.rt.exclusive(() => register(this.rt, idToken, options.force ?? false));
  }

  /** Deregisters; the local registration is removed even when the authority cannot be reached (the outcome says so). */
  deregister(): Promise<Outcome> {
    return this.rt.exclusive(() => deregister(this.rt));
  }

  /** Renews the ID certificate now (`license smart renew id`). */
  renewId(): Promise<Outcome> {
    return this.rt.exclusive(() => renewId(this.rt));
  }

  /** Renews the authorization now (`license smart renew auth`). */
  renewAuthorization(): Promise<Outcome> {
    return this.rt.exclusive(() => authorize(this.rt));
  }

  /** Runs whatever is due at `clock.now()` (registration retry, ID renewal, authorization renewal or retry, expiries). */
  runDue(): Promise<Outcome[]> {
    return this.rt.exclusive(() => runDue(this.rt));
  }

  /** When `runDue` next has something to do (ms since the epoch), or undefined. */
  nextWakeAt(): number | undefined {
    return nextWakeAt(this.rt.state);
  }

  /** The status at `clock.now()`: what `show license status --json` prints. */
  status(): AgentStatus {
    const now = this.rt.now();
    return buildStatus(this.rt.view(now), now);
  }
}
