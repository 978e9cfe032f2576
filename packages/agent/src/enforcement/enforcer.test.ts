import { ManualClock } from '@smartlic/protocol';
import { describe, expect, it } from 'vitest';
import type { AgentEvent } from '../events.js';
import type { AuthorizationStatus } from '../state/agent-state.js';
import { createEnforcer } from './enforcer.js';
import type { LicenseSnapshot } from './license-snapshot.js';
import {
  CATALYST_PROFILE,
  CLUSTER_CHANGES,
  CUSP_PROFILE,
  type EnforcementProfile,
  EXPRESSWAY_PROFILE,
  EXPRESSWAY_RESOURCES,
  findProfile,
} from './profiles.js';

const ROOM = 'regid.2016-07.com.cisco.EXP-RMS,1.0';
const STATUSES: AuthorizationStatus[] = [
  'EVAL MODE',
  'EVAL EXPIRED',
  'AUTHORIZED',
  'OUT OF COMPLIANCE',
  'AUTHORIZATION EXPIRED',
  'NO LICENSES IN USE',
];

function snapshotOf(status: AuthorizationStatus, licensed: Record<string, number> = {}): LicenseSnapshot {
  return {
    status,
    exportControlled: false,
    evaluationRemainingMs: 0,
    licensed: new Map(Object.entries(licensed)),
    displayNames: new Map(),
  };
}

function enforcerFor(profile: EnforcementProfile, initial: LicenseSnapshot) {
  let snapshot = initial;
  const events: AgentEvent[] = [];
  const enforcer = createEnforcer({
    profile,
    snapshot: () => snapshot,
    clock: new ManualClock(Date.UTC(2026, 0, 1)),
    resources: { [ROOM]: EXPRESSWAY_RESOURCES.roomSystem },
    onEvent: (event) => events.push(event),
  });
  const set = (next: LicenseSnapshot): void => {
    snapshot = next;
  };
  return { enforcer, events, set };
}

describe('enforcement profiles (SPEC §6)', () => {
  it.each([
    ['cusp', CUSP_PROFILE, [true, false, true, true, false, true]],
    ['catalyst', CATALYST_PROFILE, [true, true, true, true, true, true]],
    ['expressway', EXPRESSWAY_PROFILE, [true, true, true, true, true, true]],
  ] as const)('%s allows its licensed function per status', (_name, profile, expected) => {
    const allowed = STATUSES.map((status) => enforcerFor(profile, snapshotOf(status)).enforcer.isAllowed());
    expect(allowed).toEqual(expected);
  });

  it('cusp blocks calls when the evaluation or the authorization expired, and says why', () => {
    const { enforcer, set } = enforcerFor(CUSP_PROFILE, snapshotOf('EVAL EXPIRED'));
    expect(enforcer.decision()).toMatchObject({
      profile: 'cusp',
      decision: 'block',
      reason: 'The evaluation period has expired; register the device with the licensing authority.',
    });
    set(snapshotOf('AUTHORIZATION EXPIRED'));
    expect(enforcer.decision().reason).toMatch(/^The license authorization has expired/);
    set(snapshotOf('OUT OF COMPLIANCE'));
    expect(enforcer.decision()).toMatchObject({ decision: 'allow', reason: null });
  });

  it('expressway refuses cluster changes after the evaluation expired, but keeps working', () => {
    const { enforcer, set } = enforcerFor(EXPRESSWAY_PROFILE, snapshotOf('EVAL MODE'));
    expect(enforcer.isAllowed(CLUSTER_CHANGES)).toBe(true);
    set(snapshotOf('EVAL EXPIRED'));
    expect(enforcer.decision().decision).toBe('restricted');
    expect(enforcer.isAllowed(CLUSTER_CHANGES)).toBe(false);
    expect(enforcer.isAllowed()).toBe(true);
    expect(enforcer.isAllowed('calls')).toBe(true);
  });

  it('takes a custom profile as a plain table; unlisted statuses are allowed', () => {
    const strict: EnforcementProfile = {
      name: 'strict',
      decisions: { 'OUT OF COMPLIANCE': 'block', 'EVAL EXPIRED': 'restricted' },
      restrictedFeatures: ['reports'],
    };
    expect(STATUSES.map((status) => enforcerFor(strict, snapshotOf(status)).enforcer.isAllowed('reports'))).toEqual([
      true,
      false,
      true,
      false,
      true,
      true,
    ]);
    expect(findProfile('strict', { strict })).toBe(strict);
    expect(findProfile('cusp')).toBe(CUSP_PROFILE);
    expect(findProfile('toString')).toBeUndefined();
  });
});

describe('counted resources', () => {
  it('grants up to the licensed count, then refuses with "License limit exceeded" and one alarm naming N', () => {
    const { enforcer, events } = enforcerFor(EXPRESSWAY_PROFILE, snapshotOf('AUTHORIZED', { [ROOM]: 1 }));
    expect(enforcer.acquire(ROOM)).toEqual({ ok: true, tag: ROOM, inUse: 1, licensed: 1 });
    expect(enforcer.acquire(ROOM)).toEqual({
      ok: false,
      tag: ROOM,
      reason: 'License limit exceeded',
      inUse: 1,
      licensed: 1,
    });
    expect(enforcer.acquire(ROOM).ok).toBe(false);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      name: '%SMART_LIC-4-LICENSE_LIMIT_REACHED',
      message:
        'Room system license limit reached. A TelePresence room system registration failed because there were no available room system licenses. You are licensed for 1 concurrent TelePresence room system registrations.',
    });

    expect(enforcer.release(ROOM)).toBe(0);
    expect(enforcer.acquire(ROOM).ok).toBe(true);
    expect(enforcer.acquire(ROOM).ok).toBe(false);
    expect(events).toHaveLength(2);
    expect(enforcer.release(ROOM)).toBe(0);
    expect(enforcer.release(ROOM)).toBe(0);
    expect(enforcer.inUse(ROOM)).toBe(0);
  });

  it('names an undescribed tag by its display name, and follows the licensed count as it changes', () => {
    const tag = 'regid.2026-01.com.example.Sessions';
    const { enforcer, events, set } = enforcerFor(EXPRESSWAY_PROFILE, {
      ...snapshotOf('EVAL MODE', { [tag]: 2 }),
      displayNames: new Map([[tag, 'Example sessions']]),
    });
    expect([enforcer.acquire(tag).ok, enforcer.acquire(tag).ok, enforcer.acquire(tag).ok]).toEqual([true, true, false]);
    expect(events[0]?.message).toBe(
      'Example sessions license limit reached. A use of Example sessions failed because there were no available example sessions licenses. You are licensed for 2 concurrent uses of Example sessions.',
    );
    set(snapshotOf('AUTHORIZED', { [tag]: 3 }));
    expect(enforcer.licensedCount(tag)).toBe(3);
    expect(enforcer.acquire(tag)).toMatchObject({ ok: true, inUse: 3, licensed: 3 });
  });

  it('only counts where the profile does not enforce counts, and refuses everything while blocked', () => {
    const catalyst = enforcerFor(CATALYST_PROFILE, snapshotOf('OUT OF COMPLIANCE', { [ROOM]: 1 }));
    expect([catalyst.enforcer.acquire(ROOM).ok, catalyst.enforcer.acquire(ROOM).ok]).toEqual([true, true]);
    expect(catalyst.enforcer.inUse(ROOM)).toBe(2);
    expect(catalyst.events).toEqual([]);

    const cusp = enforcerFor(CUSP_PROFILE, snapshotOf('AUTHORIZATION EXPIRED', { [ROOM]: 5 }));
    expect(cusp.enforcer.licensedCount(ROOM)).toBe(0);
    expect(cusp.enforcer.acquire(ROOM)).toMatchObject({ ok: false, reason: expect.stringMatching(/has expired/) });
  });

  it('reports export-controlled functionality as the snapshot has it', () => {
    const { enforcer, set } = enforcerFor(CATALYST_PROFILE, snapshotOf('AUTHORIZED'));
    expect(enforcer.exportControlledAllowed()).toBe(false);
    set({ ...snapshotOf('AUTHORIZED'), exportControlled: true });
    expect(enforcer.exportControlledAllowed()).toBe(true);
  });
});
