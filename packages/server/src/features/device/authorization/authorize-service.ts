import { type AuthorizeResponse, DEFAULT_TIMERS, PROTOCOL_VERSION } from '@smartlic/protocol';
import { DEVICE_UNIT } from '../../../storage/transactor.js';
import { entitlementStatus, overallStatus, retryIntervalFor } from '../../compliance/compliance.js';
import { coverBalances, familiesOf } from '../../compliance/covered-balances.js';
import { uncountSilent } from '../../compliance/silent-usage-store.js';
import { replaceInstanceUsage } from '../../compliance/usage-store.js';
import { recordAuthorizationChanges } from '../../events/device-events.js';
import { type SignedAnswer, signAnswer } from '../../pki/response-signer.js';
import type { DeviceDeps } from '../device-deps.js';
import {
  authenticateInstance,
  forgetRetiredCertificate,
  refuseStaleIdentity,
  retirePreviousCertificate,
} from '../device-identity.js';
import type { DeviceRequest } from '../device-request.js';
import { replayedNonce } from '../replay.js';
import { mergeEntitlements } from './requested-usage.js';

/**
 * READ COMMITTED on PostgreSQL (ADR 0009): the nonce is a primary key, the instance's row is
 * locked by the unit's first update (so its usage rows have one writer at a time), the VA's totals
 * move by atomic increments under the VA's usage lock; nothing is read and then written back.
 */
const RENEWAL_UNIT = { ...DEVICE_UNIT, isolation: 'read-committed' } as const;

/**
 * Authorization, "Mother May I" (SPEC §4.2): the request's entitlements become the
 * instance's usage, and each is judged against the VA's balance of its tag. Compliance is
 * reported, never enforced. This is the hot path: one cached key, one transaction of a
 * few indexed statements, usage rows rewritten only when they change.
 */
export async function authorizeDevice(
  deps: DeviceDeps,
  request: DeviceRequest<'authorize'>,
): Promise<SignedAnswer<AuthorizeResponse>> {
  const { transactor, clock, statements } = deps;
  const pki = deps.pki.current();
  const { payload } = request;
  const identity = await authenticateInstance(deps, request);
  const requested = mergeEntitlements(payload.entitlements);
  const now = clock.now();
  const tree = await deps.tags.get();
  const families = familiesOf(
    tree,
    requested.map((e) => e.tag),
  );

  const { entitlements, status, place } = await transactor.run(async (trx) => {
    if (!(await statements.recordNonce(trx, payload.nonce, now))) throw replayedNonce();
    // The VA is read back: the instance may have been transferred since its identity was cached.
    const touched = await statements.touchInstanceInVa(trx, identity.id, identity.signedWith.serial, now);
    if (touched === undefined) return refuseStaleIdentity(trx, deps, identity);
    await retirePreviousCertificate(trx, identity);
    const { vaId } = touched;
    if (touched.silentCounted) await uncountSilent(trx, identity.id);
    const current = await statements.readInstanceUsage(trx, identity.id);
    const usageChanged = await replaceInstanceUsage(trx, { instanceId: identity.id, vaId }, current, requested);
    const read = coverBalances(
      tree,
      families.length === 0 ? new Map() : await statements.readBalances(trx, vaId, now, families),
    );
    // Judged once, here: the event log and the answer must agree on the same balances.
    const entitlements = requested.map((e) => {
      const balance = read.get(e.tag);
      const displayName = balance?.displayName ?? e.displayName ?? undefined;
      // Members in canonical (code-unit) order, as in the answer below: `signAnswer` then writes it at once.
      return {
        ...(displayName === undefined ? {} : { displayName }),
        requested: e.count,
        status: entitlementStatus(e.count, balance),
        tag: e.tag,
      };
    });
    const status = overallStatus(entitlements.map((e) => e.status));
    await recordAuthorizationChanges(trx, {
      instanceId: identity.id,
      vaId,
      at: now,
      usageChanged,
      previousStatus: touched.complianceStatus,
      before: current,
      after: requested,
      status,
    });
    return { entitlements, status, place: await deps.places.get(trx, vaId) };
  }, RENEWAL_UNIT);
  forgetRetiredCertificate(deps, identity);

  const authorizedAt = clock.now();
  return signAnswer(
    pki,
    // Members in canonical (code-unit) order: the canonical form the signature covers is then
    // JSON.stringify's, written at once instead of member by member (`canonicalize`).
    {
      authorizedAt,
      entitlements,
      expiresAt: authorizedAt + DEFAULT_TIMERS.authorizationValidityMs,
      instanceId: identity.id,
      nonce: payload.nonce,
      renewIntervalMs: DEFAULT_TIMERS.authorizationRenewIntervalMs,
      retryIntervalMs: retryIntervalFor(status),
      ...(place ? { smartAccount: place.account } : {}),
      status,
      timestamp: authorizedAt,
      type: 'authorize-response',
      version: PROTOCOL_VERSION,
      ...(place ? { virtualAccount: place.va } : {}),
    } satisfies AuthorizeResponse,
    payload.signingCertSerial,
  );
}
