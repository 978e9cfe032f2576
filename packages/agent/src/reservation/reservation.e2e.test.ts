import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type AuthorizationPayload,
  checkConfirmationCode,
  checkReturnCode,
  deriveReservationMacKey,
  encodeAuthorizationCode,
  newReservationKeyPair,
  parseRequestCode,
  parseReturnCode,
  type ReservedLicense,
  SmartlicError,
  signEnvelope,
} from '@smartlic/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatStatus } from '../status/format-status.js';
import { type AgentHarness, createAgentHarness } from '../testing/harness.js';
import { RESERVATION_FILE } from './reservation-store.js';

const TAG = 'regid.2026-01.com.example.A_1.0';
const DAY = 86_400_000;

/** The authority's half, built on the fake authority's signing certificate. */
function authorityFor(h: AgentHarness, requestCode: string) {
  const request = parseRequestCode(requestCode);
  const reservationId = randomUUID();
  const instanceId = randomUUID();
  const key = newReservationKeyPair();
  const macKey = deriveReservationMacKey(key.privateKeyPem, request.devicePublicKey, reservationId);
  const issue = (sequence: number, licenses: ReservedLicense[], udi = request.udi) => {
    const payload: AuthorizationPayload = {
      version: 1,
      kind: 'reservation-authorization',
      udi,
      requestNonce: request.nonce,
      reservationId,
      instanceId,
      sequence,
      licenses,
      plr: false,
      issuedAt: h.clock.now(),
      authorityKey: key.publicKey,
    };
    return encodeAuthorizationCode(
      signEnvelope(payload, h.fake.signer.pair.privateKey, h.fake.signer.serial),
      h.fake.signer.pem,
    );
  };
  return { request, reservationId, macKey, issue };
}

describe('agent license reservation', () => {
  let h: AgentHarness;
  beforeEach(async () => {
    h = await createAgentHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  async function reservedAgent() {
    const agent = await h.init();
    await agent.setDestination(h.fake.url, { authorityRootPem: h.fake.rootCaPem });
    await agent.use(TAG, 3);
    await agent.reservation({ type: 'enable', authorityRootPem: h.fake.rootCaPem });
    const { code } = await agent.reservation({ type: 'request' });
    const authority = authorityFor(h, code ?? '');
    await agent.reservation({ type: 'install', code: authority.issue(1, [{ tag: TAG, count: 3 }]) });
    return { agent, authority };
  }

  it('keeps AUTHORIZED - RESERVED through two simulated years with no network', async () => {
    const { agent } = await reservedAgent();
    // A destination is configured, yet nothing may be sent while reserved.
    const before = h.fake.requests.length;
    let current = agent;
    for (let day = 1; day <= 2 * 365; day++) {
      h.clock.advance(DAY);
      expect(await current.runDue()).toEqual([]);
      expect(current.nextWakeAt()).toBeUndefined();
      if (day % 100 === 0) current = await h.open(); // restarts: the reservation survives them
      expect(current.status().authorization.status).toBe('AUTHORIZED - RESERVED');
    }
    const status = current.status();
    expect(status.usage).toEqual([expect.objectContaining({ tag: TAG, count: 3, status: 'RESERVED' })]);
    expect(status.authorization.lastCommunicationAttempt).toBeNull();
    expect(status.authorization.communicationDeadline).toBeNull();
    expect(h.fake.requests.length).toBe(before);
    expect(h.eventNames().filter((n) => /COMM_FAILED|AUTH_RENEW|REG_FAILED|EVAL_EXPIRED/.test(n))).toEqual([]);
    expect(formatStatus(status)).toContain('License Reservation:\n  Status: INSTALLED');
    // Enforcement follows the reservation, even for a profile that blocks after the evaluation period.
    const enforcer = current.createEnforcer({ profile: { name: 'strict', decisions: { 'EVAL EXPIRED': 'block' } } });
    expect(enforcer.isAllowed()).toBe(true);
    expect(enforcer.licensedCount(TAG)).toBe(3);
  });

  it('stops the evaluation clock while reserved and resumes it, unrefunded, after a return', async () => {
    const { agent } = await reservedAgent();
    const atInstall = agent.status().evaluation.remainingMs;
    expect(agent.status().evaluation.running).toBe(false);
    h.clock.advance(120 * DAY);
    const reopened = await h.open();
    expect(reopened.status().evaluation.remainingMs).toBe(atInstall);
    await reopened.reservation({ type: 'return' });
    expect(reopened.status().evaluation.running).toBe(true);
    h.clock.advance(DAY);
    expect(reopened.status().evaluation.remainingMs).toBe(atInstall - DAY);
    expect(reopened.status().authorization.status).toBe('EVAL MODE');
  });

  it('updates with a confirmation code the authority accepts, and returns with a return code', async () => {
    const { agent, authority } = await reservedAgent();
    const update = await agent.reservation({ type: 'install', code: authority.issue(2, [{ tag: TAG, count: 5 }]) });
    const subject = { reservationId: authority.reservationId, sequence: 2, udi: authority.request.udi };
    expect(checkConfirmationCode(update.code ?? '', authority.macKey, subject)).toBe(true);
    const ret = await agent.reservation({ type: 'return' });
    expect(checkReturnCode(parseReturnCode(ret.code ?? ''), authority.macKey, subject)).toBe(true);
    expect(agent.status().authorization.status).not.toBe('AUTHORIZED - RESERVED');
    expect(agent.status().registration.status).toBe('UNREGISTERED');
  });

  it('refuses a code for another UDI, a code installed twice, and an edited reservation file', async () => {
    const { agent, authority } = await reservedAgent();
    const foreign = authority.issue(2, [{ tag: TAG, count: 1 }], { pid: 'C9300-24UX', sn: 'SOMEONE' });
    await expect(agent.reservation({ type: 'install', code: foreign })).rejects.toThrow(
      'This authorization code is for another product (PID:C9300-24UX SN:SOMEONE).',
    );
    const update = authority.issue(2, [{ tag: TAG, count: 4 }]);
    await agent.reservation({ type: 'install', code: update });
    await expect(agent.reservation({ type: 'install', code: update })).rejects.toThrow(
      'This authorization code is already installed.',
    );
    await expect(agent.register('token')).rejects.toBeInstanceOf(SmartlicError);
    const file = join(h.dir, RESERVATION_FILE);
    await writeFile(file, (await readFile(file, 'utf8')).replace('"count": 4', '"count": 40'));
    await expect(h.open()).rejects.toThrow(/reservation file .* is damaged or was edited/);
  });
});
