import { SmartlicError } from '@smartlic/protocol/core';
import type { AgentRuntime } from '../runtime.js';
import type { AgentState } from '../state/agent-state.js';
import { createEnforcer, type Enforcer } from './enforcer.js';
import { type LicenseSnapshot, licenseSnapshot } from './license-snapshot.js';
import { type CountedResource, type EnforcementProfile, findProfile } from './profiles.js';

/** What `agent.createEnforcer` takes. */
export interface AgentEnforcerOptions {
  /** The profile; default: the one named by the device identity (`device init --profile`), looked up in `profiles` then the built-ins. */
  profile?: EnforcementProfile;
  /** The host's own profiles by name, for identities that name one. */
  profiles?: Readonly<Record<string, EnforcementProfile>>;
  /** How counted tags are named in the alarm (see `EXPRESSWAY_RESOURCES`). */
  resources?: Readonly<Record<string, CountedResource>>;
}

/** How long (agent time) a license snapshot is reused while the state does not change. */
const SNAPSHOT_TTL_MS = 1000;

/**
 * The license snapshot of a running agent, recomputed when its state changes or a second of agent
 * time has passed (deadlines are then noticed within a second), so per-call checks stay cheap.
 */
export function cachedSnapshot(rt: AgentRuntime): () => LicenseSnapshot {
  let cache: { state: AgentState; at: number; snapshot: LicenseSnapshot } | undefined;
  return () => {
    const now = rt.now();
    if (cache && cache.state === rt.state && now >= cache.at && now - cache.at < SNAPSHOT_TTL_MS) return cache.snapshot;
    const snapshot = licenseSnapshot(rt.state, now);
    cache = { state: rt.state, at: now, snapshot };
    return snapshot;
  };
}

/** An enforcer wired to the agent's state, clock and events (which reach the host and the event log). */
export function agentEnforcer(
  rt: AgentRuntime,
  snapshot: () => LicenseSnapshot,
  options: AgentEnforcerOptions,
): Enforcer {
  const name = rt.state.identity.profile;
  const profile = options.profile ?? findProfile(name, options.profiles);
  if (!profile) {
    throw new SmartlicError('BAD_REQUEST', {
      message: `The enforcement profile "${name}" is not built in (cusp, catalyst, expressway): pass its table in \`profiles\`.`,
    });
  }
  return createEnforcer({
    profile,
    snapshot,
    clock: rt.deps.clock,
    onEvent: (event) => rt.emit(event),
    ...(options.resources ? { resources: options.resources } : {}),
  });
}
