import { type Clock, systemClock } from '@smartlic/protocol/core';
import { type AgentEvent, agentEvent } from '../events.js';
import type { AuthorizationStatus } from '../state/agent-state.js';
import { type CpsLimiter, type CpsLimiterOptions, createCpsLimiter } from './cps-limiter.js';
import type { LicenseSnapshot } from './license-snapshot.js';
import { type CountedResource, decide, type EnforcementDecision, type EnforcementProfile } from './profiles.js';
import {
  type AcquireResult,
  genericResource,
  LICENSE_LIMIT_EXCEEDED,
  limitAlarm,
  ResourceCounter,
} from './resource-counter.js';

/** Options of `createEnforcer`. */
export interface EnforcerOptions {
  /** The profile: a built-in one (`CUSP_PROFILE`, …) or the host's own table. */
  profile: EnforcementProfile;
  /** The licensing state now; called on every check, so it should be cheap (the agent's is cached). */
  snapshot: () => LicenseSnapshot;
  /** How counted tags are named in the alarm, e.g. `{ [roomTag]: EXPRESSWAY_RESOURCES.roomSystem }`. */
  resources?: Readonly<Record<string, CountedResource>>;
  /** Stamps events and drives CPS limiters. Default: the system clock. */
  clock?: Clock;
  /** Receives `LICENSE_LIMIT_REACHED` and the CPS limiters' events; exceptions are swallowed. */
  onEvent?: (event: AgentEvent) => void;
}

/** The enforcement decision now, with its reason (`show`-able to an operator). */
export interface EnforcementState {
  /** The profile's name. */
  profile: string;
  /** The authorization status the decision is made on. */
  status: AuthorizationStatus;
  /** `allow`, `restricted` or `block`, as the profile says for `status`. */
  decision: EnforcementDecision;
  /** Why the product is restricted or blocked; null when it is allowed. */
  reason: string | null;
  /** Evaluation time left (ms): the countdown shown while in EVAL MODE. */
  evaluationRemainingMs: number;
  /** Features refused while `restricted`. */
  restrictedFeatures: readonly string[];
}

const WHY: Partial<Record<AuthorizationStatus, string>> = {
  'EVAL EXPIRED': 'The evaluation period has expired; register the device with the licensing authority.',
  'AUTHORIZATION EXPIRED':
    'The license authorization has expired; the device must reach the licensing authority to renew it.',
  'OUT OF COMPLIANCE': 'One or more entitlements are out of compliance.',
};

/**
 * Applies an enforcement profile (SPEC §6) to the licensing state: allow/restrict/block per status,
 * counted resources up to their licensed counts, CPS limiters, export-controlled functionality.
 * It never throws into its host for a licensing outcome: refusals are values and events.
 */
export class Enforcer {
  private readonly counter = new ResourceCounter();
  private readonly clock: Clock;

  constructor(private readonly options: EnforcerOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** The profile in force. */
  get profile(): EnforcementProfile {
    return this.options.profile;
  }

  /** The decision now, its reason and the evaluation countdown. */
  decision(): EnforcementState {
    const snapshot = this.options.snapshot();
    const decision = decide(this.options.profile, snapshot.status);
    return {
      profile: this.options.profile.name,
      status: snapshot.status,
      decision,
      reason: decision === 'allow' ? null : (WHY[snapshot.status] ?? `The license status is ${snapshot.status}.`),
      evaluationRemainingMs: snapshot.evaluationRemainingMs,
      restrictedFeatures: this.options.profile.restrictedFeatures ?? [],
    };
  }

  /**
   * Whether the product may run its licensed function now (`feature` omitted: e.g. accept a call),
   * or a given feature (e.g. `cluster-changes`, refused while restricted).
   */
  isAllowed(feature?: string): boolean {
    const decision = decide(this.options.profile, this.options.snapshot().status);
    if (decision === 'allow') return true;
    if (decision === 'block') return false;
    return feature === undefined || !(this.options.profile.restrictedFeatures ?? []).includes(feature);
  }

  /** Whether export-controlled functionality may be enabled: only where the registration token allowed it. */
  exportControlledAllowed(): boolean {
    return this.options.snapshot().exportControlled;
  }

  /** The count of `tag` the product may use concurrently now (0 while blocked). */
  licensedCount(tag: string): number {
    const snapshot = this.options.snapshot();
    if (decide(this.options.profile, snapshot.status) === 'block') return 0;
    return snapshot.licensed.get(tag) ?? 0;
  }

  /** Uses of `tag` taken and not released. */
  inUse(tag: string): number {
    return this.counter.count(tag);
  }

  /**
   * Takes one concurrent use of `tag` (a registration, a session). Refused while the profile
   * blocks, and — when the profile enforces counts — at the licensed count, with
   * "License limit exceeded" and, the first time, a `LICENSE_LIMIT_REACHED` alarm naming the count.
   */
  acquire(tag: string): AcquireResult {
    const snapshot = this.options.snapshot();
    const decision = decide(this.options.profile, snapshot.status);
    const inUse = this.counter.count(tag);
    const licensed = decision === 'block' ? 0 : (snapshot.licensed.get(tag) ?? 0);
    if (decision === 'block') {
      return {
        ok: false,
        tag,
        reason: WHY[snapshot.status] ?? `The license status is ${snapshot.status}.`,
        inUse,
        licensed,
      };
    }
    if (this.options.profile.enforceCounts && inUse >= licensed) {
      if (this.counter.firstRefusal(tag)) {
        const resource = this.options.resources?.[tag] ?? genericResource(snapshot.displayNames.get(tag) ?? tag);
        this.emit(agentEvent('LICENSE_LIMIT_REACHED', this.clock.now(), limitAlarm(resource, licensed)));
      }
      return { ok: false, tag, reason: LICENSE_LIMIT_EXCEEDED, inUse, licensed };
    }
    return { ok: true, tag, inUse: this.counter.take(tag), licensed };
  }

  /** Gives back one use of `tag`; returns the uses left. Releasing more than was taken is ignored. */
  release(tag: string): number {
    return this.counter.give(tag);
  }

  /** A CPS limiter on this enforcer's clock and event sink (see `CpsLimiter`). */
  createCpsLimiter(options: CpsLimiterOptions): CpsLimiter {
    return createCpsLimiter({
      clock: this.clock,
      ...(this.options.onEvent ? { onEvent: (event) => this.emit(event) } : {}),
      ...options,
    });
  }

  private emit(event: AgentEvent): void {
    try {
      this.options.onEvent?.(event);
    } catch {
      // The host's handler must not break enforcement.
    }
  }
}

/** Creates an enforcer (see `Enforcer`). */
export function createEnforcer(options: EnforcerOptions): Enforcer {
  return new Enforcer(options);
}
