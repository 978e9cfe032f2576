import type { AuthorizationStatus } from '../state/agent-state.js';

/**
 * What a profile does in one authorization status: `allow` everything, `block` the product's
 * licensed function (e.g. CUSP refuses calls), or run `restricted` (the function keeps working,
 * the profile's `restrictedFeatures` are refused, e.g. Expressway's cluster changes).
 */
export type EnforcementDecision = 'allow' | 'restricted' | 'block';

/** A counted resource, named for the alarm (`Room system license limit reached. …`). */
export interface CountedResource {
  /** Capitalised name of the license: `Room system`. */
  label: string;
  /** One use, as the alarm words it: `TelePresence room system registration`. */
  unit: string;
  /** Several uses: `TelePresence room system registrations`. */
  units: string;
}

/**
 * An enforcement profile (SPEC §6): a plain table from authorization status to decision. Built-in
 * ones are `cusp`, `catalyst` and `expressway`; a host passes its own as the same kind of table.
 */
export interface EnforcementProfile {
  /** The name `device init --profile` records, e.g. `cusp`. */
  name: string;
  /** The decision per status; a status not listed is `allow`. */
  decisions: Partial<Record<AuthorizationStatus, EnforcementDecision>>;
  /** Features refused while the decision is `restricted` (e.g. `cluster-changes`). */
  restrictedFeatures?: readonly string[];
  /**
   * Whether counted resources are capped at the licensed count (`acquire` refuses beyond it with
   * "License limit exceeded"). Otherwise usage is only counted and reported. Default: false.
   */
  enforceCounts?: boolean;
}

/** The feature Expressway refuses after its evaluation expired (seed 002: the Cluster menu is greyed out). */
export const CLUSTER_CHANGES = 'cluster-changes';

/** Cisco Unified SIP Proxy (seeds 000, 001): calls are blocked when the evaluation or the authorization expired. */
export const CUSP_PROFILE: EnforcementProfile = {
  name: 'cusp',
  decisions: { 'EVAL EXPIRED': 'block', 'AUTHORIZATION EXPIRED': 'block' },
};

/** Catalyst / IOS XE (seed 003): everything is allowed; compliance is only reported. */
export const CATALYST_PROFILE: EnforcementProfile = { name: 'catalyst', decisions: {} };

/**
 * Expressway (seed 002): allowed in evaluation (with its countdown) and up to the licensed counts
 * once authorized; restricted (cluster changes refused) once the evaluation or the authorization
 * expired. Out of compliance is reported, never blocked (SPEC §2).
 */
export const EXPRESSWAY_PROFILE: EnforcementProfile = {
  name: 'expressway',
  decisions: { 'EVAL EXPIRED': 'restricted', 'AUTHORIZATION EXPIRED': 'restricted' },
  restrictedFeatures: [CLUSTER_CHANGES],
  enforceCounts: true,
};

/** The built-in profiles by name. */
export const BUILT_IN_PROFILES: Readonly<Record<string, EnforcementProfile>> = {
  cusp: CUSP_PROFILE,
  catalyst: CATALYST_PROFILE,
  expressway: EXPRESSWAY_PROFILE,
};

/** Expressway's counted licenses, as its alarms name them (seed 002). Map your tags to them. */
export const EXPRESSWAY_RESOURCES = {
  roomSystem: {
    label: 'Room system',
    unit: 'TelePresence room system registration',
    units: 'TelePresence room system registrations',
  },
  desktopSystem: {
    label: 'Desktop system',
    unit: 'desktop system registration',
    units: 'desktop system registrations',
  },
  richMediaSession: { label: 'Rich media session', unit: 'rich media session', units: 'rich media sessions' },
} as const satisfies Record<string, CountedResource>;

/** The decision of `profile` in `status`. */
export function decide(profile: EnforcementProfile, status: AuthorizationStatus): EnforcementDecision {
  return profile.decisions[status] ?? 'allow';
}

/**
 * The profile named `name`: the host's own (`custom`) first, then the built-in ones; undefined
 * when neither has it.
 */
export function findProfile(
  name: string,
  custom: Readonly<Record<string, EnforcementProfile>> = {},
): EnforcementProfile | undefined {
  return Object.hasOwn(custom, name)
    ? custom[name]
    : Object.hasOwn(BUILT_IN_PROFILES, name)
      ? BUILT_IN_PROFILES[name]
      : undefined;
}
