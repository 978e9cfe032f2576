import { randomUUID } from 'node:crypto';
import {
  type AuthorizationPayload,
  type Clock,
  checkConfirmationCode,
  checkReturnCode,
  deriveReservationMacKey,
  encodeAuthorizationCode,
  newReservationKeyPair,
  parseRequestCode,
  parseReturnCode,
  RESERVATION_CODE_VERSION,
  type ReservedLicense,
  SmartlicError,
  signEnvelope,
} from '@smartlic/protocol';
import type { Kysely, Transaction } from 'kysely';
import { notFound } from '../../errors.js';
import type { Database, ReservationRow } from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';
import { refuseDuplicate } from '../../storage/unique-violation.js';
import { findVaWithAccount } from '../accounts/account-store.js';
import { allocate, headroom } from '../compliance/allocation.js';
import { readBalances } from '../compliance/balances.js';
import { readInstanceUsage, releaseInstanceUsage, replaceInstanceUsage } from '../compliance/usage-store.js';
import { type Actor, recordEvent } from '../events/event-recorder.js';
import { deleteInstance, findInstanceByUdi, insertInstance } from '../instances/instance-store.js';
import type { PkiHolder } from '../pki/pki-holder.js';
import { readTagTree } from '../tags/tag-tree.js';
import {
  findReservationByInstance,
  findReservationByRequest,
  insertReservation,
  reservationAllowed,
  setReservationAllowed,
  updateReservation,
} from './reservation-store.js';

/** What the reservation service is wired with. */
export interface ReservationDeps {
  db: Kysely<Database>;
  transactor: Transactor;
  clock: Clock;
  pki: PkiHolder;
  /** A satellite refuses every reservation (SPEC §7). */
  mode: 'authority' | 'satellite';
}

/** What creating a reservation answers. */
export interface CreatedReservation {
  id: string;
  instanceId: string;
  authorizationCode: string;
}

/** A reservation as the API shows it after a change. */
export interface ReservationView {
  id: string;
  instanceId: string;
  status: ReservationRow['status'];
  sequence: number;
  plr: boolean;
  licenses: ReservedLicense[];
}

/** A reserved instance's ID certificate fields: none (it never talks to us); far future so no job expires it. */
const NEVER = Date.UTC(9999, 11, 31);

/**
 * License reservation (SPEC §7): SLR and PLR from a request code, updates completed by a
 * confirmation code, and returns proven by a return code. The reserved counts are the usage
 * of a product instance that shows the reservation, so they are in `inUse` exactly once and
 * are covered by the license hierarchy as online usage is (a child tag's reservation draws
 * on its parents' pools); a UDI that is registered online cannot be reserved and a reserved
 * UDI cannot register online.
 */
export function createReservationService(deps: ReservationDeps) {
  const { db, transactor, clock } = deps;

  const guard = (): void => {
    if (deps.mode === 'satellite') throw new SmartlicError('RESERVATION_SATELLITE');
  };

  const place = async (trx: Kysely<Database>, vaId: string) => {
    const found = await findVaWithAccount(trx, vaId);
    if (!found) throw notFound('Virtual account', vaId);
    return found;
  };

  const issue = (row: ReservationRow, sequence: number, licenses: ReservedLicense[], now: number): string => {
    const payload: AuthorizationPayload = {
      version: RESERVATION_CODE_VERSION,
      kind: 'reservation-authorization',
      udi: { pid: row.udi_pid, sn: row.udi_sn },
      requestNonce: row.request_nonce,
      reservationId: row.id,
      instanceId: row.instance_id,
      sequence,
      licenses,
      plr: row.plr === 1,
      issuedAt: now,
      authorityKey: row.authority_key,
    };
    const pki = deps.pki.current();
    return encodeAuthorizationCode(signEnvelope(payload, pki.signingKey, pki.signingCertSerial), pki.signingCertPem);
  };

  const active = async (trx: Kysely<Database>, instanceId: string): Promise<ReservationRow> => {
    const row = await findReservationByInstance(trx, instanceId);
    if (!row || row.status === 'returned') throw notFound('Reservation of product instance', instanceId);
    return row;
  };

  return {
    /** Allows (or forbids) reservation in a VA. */
    async setAllowed(vaId: string, allowed: boolean, actor: Actor): Promise<{ vaId: string; allowed: boolean }> {
      guard();
      return transactor.run(async (trx) => {
        const where = await place(trx, vaId);
        const now = clock.now();
        await setReservationAllowed(trx, vaId, allowed, now);
        await recordEvent(trx, {
          at: now,
          actor,
          type: 'va.reservation-settings',
          accountId: where.account.id,
          vaId,
          detail: { allowed },
        });
        return { vaId, allowed };
      });
    },

    async getAllowed(vaId: string): Promise<{ vaId: string; allowed: boolean }> {
      await place(db, vaId);
      return { vaId, allowed: await reservationAllowed(db, vaId) };
    },

    /** Reserves `licenses` (or everything, `plr`) for the device of a request code. */
    async create(
      vaId: string,
      input: { requestCode: string; licenses?: ReservedLicense[]; plr?: boolean },
      actor: Actor,
    ): Promise<CreatedReservation> {
      guard();
      const request = parseRequestCode(input.requestCode);
      const plr = input.plr === true;
      const licenses = plr ? [] : normalizeLicenses(input.licenses ?? []);
      return transactor.run(async (trx) => {
        const where = await place(trx, vaId);
        if (!(await reservationAllowed(trx, vaId))) throw new SmartlicError('RESERVATION_NOT_ALLOWED');
        const codeUsed = () => new SmartlicError('RESERVATION_CODE_USED', { params: { kind: 'request' } });
        if (await findReservationByRequest(trx, request.nonce)) throw codeUsed();
        const { pid, sn } = request.udi;
        const registered = (id: string) =>
          new SmartlicError('ALREADY_REGISTERED', {
            message: `Product Already Registered: PID:${pid} SN:${sn} is already a product instance (${id}); deregister it or return its reservation first.`,
          });
        const existing = await findInstanceByUdi(trx, pid, sn);
        if (existing) {
          throw registered(existing.id);
        }
        const now = clock.now();
        const instanceId = randomUUID();
        await checkAvailable(trx, vaId, instanceId, licenses, now);
        // Another process may have registered the UDI since the check: the constraint refuses it.
        const insert = insertInstance(trx, {
          id: instanceId,
          va_id: vaId,
          token_id: null,
          pid,
          sn,
          hostname: null,
          software_tag: plr ? 'reservation:plr' : 'reservation:slr',
          public_key_spki: '',
          id_cert_pem: '',
          id_cert_serial: '',
          id_cert_expires_at: NEVER,
          registered_at: now,
          last_contact_at: now,
          export_controlled: 0,
        });
        await refuseDuplicate(insert, () => registered('registered meanwhile'));
        await replaceInstanceUsage(trx, { instanceId, vaId }, [], asUsage(licenses));
        const id = randomUUID();
        const authorityKey = newReservationKeyPair();
        const macKey = deriveReservationMacKey(authorityKey.privateKeyPem, request.devicePublicKey, id);
        const row: ReservationRow = {
          id,
          va_id: vaId,
          instance_id: instanceId,
          udi_pid: pid,
          udi_sn: sn,
          request_nonce: request.nonce,
          device_key: request.devicePublicKey,
          authority_key: authorityKey.publicKey,
          mac_key: macKey.toString('base64url'),
          sequence: 1,
          confirmed_sequence: 1,
          status: 'reserved',
          licenses: JSON.stringify(licenses),
          confirmed_licenses: JSON.stringify(licenses),
          plr: plr ? 1 : 0,
          created_at: now,
          updated_at: now,
          returned_at: null,
        };
        await refuseDuplicate(insertReservation(trx, row), codeUsed);
        await recordEvent(trx, {
          at: now,
          actor,
          type: 'reservation.created',
          accountId: where.account.id,
          vaId,
          detail: { reservationId: id, instanceId, udi: `PID:${pid} SN:${sn}`, plr, licenses },
        });
        return { id, instanceId, authorizationCode: issue(row, 1, licenses, now) };
      });
    },

    /** Issues a new authorization code with new counts; complete it with the device's confirmation code. */
    async update(
      instanceId: string,
      input: { licenses: ReservedLicense[] },
      actor: Actor,
    ): Promise<{ authorizationCode: string }> {
      guard();
      const licenses = normalizeLicenses(input.licenses);
      return transactor.run(async (trx) => {
        const row = await active(trx, instanceId);
        if (row.plr === 1) {
          throw new SmartlicError('RESERVATION_STATE', {
            message: 'A permanent license reservation (PLR) has no counts to update.',
          });
        }
        const where = await place(trx, row.va_id);
        const now = clock.now();
        const confirmed = JSON.parse(row.confirmed_licenses) as ReservedLicense[];
        // Until the device confirms, it may run either code: hold the larger count of each tag.
        const counts = new Map(confirmed.map((l) => [l.tag, l.count]));
        for (const l of licenses) counts.set(l.tag, Math.max(counts.get(l.tag) ?? 0, l.count));
        const held = toLicenses(counts);
        await checkAvailable(trx, row.va_id, instanceId, licenses, now, held);
        const current = await readInstanceUsage(trx, instanceId);
        await replaceInstanceUsage(trx, { instanceId, vaId: row.va_id }, current, asUsage(held));
        const sequence = row.sequence + 1;
        await updateReservation(trx, row.id, {
          sequence,
          status: 'pending-confirmation',
          licenses: JSON.stringify(licenses),
          updated_at: now,
        });
        await recordEvent(trx, {
          at: now,
          actor,
          type: 'reservation.updated',
          accountId: where.account.id,
          vaId: row.va_id,
          detail: { reservationId: row.id, instanceId, sequence, licenses },
        });
        return { authorizationCode: issue(row, sequence, licenses, now) };
      });
    },

    /** Completes an update with the confirmation code the device printed when it installed it. */
    async confirm(instanceId: string, code: string, actor: Actor): Promise<ReservationView> {
      guard();
      return transactor.run(async (trx) => {
        const row = await active(trx, instanceId);
        const subject = { reservationId: row.id, sequence: row.sequence, udi: { pid: row.udi_pid, sn: row.udi_sn } };
        const matches = checkConfirmationCode(code, Buffer.from(row.mac_key, 'base64url'), subject);
        if (row.status !== 'pending-confirmation') {
          if (matches) throw new SmartlicError('RESERVATION_CODE_USED', { params: { kind: 'confirmation' } });
          throw new SmartlicError('RESERVATION_STATE', {
            message: 'No update of this reservation is waiting for a confirmation code.',
          });
        }
        if (!matches) {
          throw new SmartlicError('RESERVATION_CODE_INVALID', {
            message:
              "The confirmation code does not match this reservation's latest authorization code: install that code on the device and enter the code it prints.",
          });
        }
        const where = await place(trx, row.va_id);
        const now = clock.now();
        const licenses = JSON.parse(row.licenses) as ReservedLicense[];
        const current = await readInstanceUsage(trx, instanceId);
        await replaceInstanceUsage(trx, { instanceId, vaId: row.va_id }, current, asUsage(licenses));
        await updateReservation(trx, row.id, {
          status: 'reserved',
          confirmed_sequence: row.sequence,
          confirmed_licenses: row.licenses,
          updated_at: now,
        });
        await recordEvent(trx, {
          at: now,
          actor,
          type: 'reservation.confirmed',
          accountId: where.account.id,
          vaId: row.va_id,
          detail: { reservationId: row.id, instanceId, sequence: row.sequence, licenses },
        });
        return view({ ...row, status: 'reserved', confirmed_sequence: row.sequence, confirmed_licenses: row.licenses });
      });
    },

    /**
     * Removes a reservation with the device's return code: the counts go back to the pool and the
     * product instance is removed. A return code for an update that was never installed cancels
     * that update only.
     */
    async returnReservation(instanceId: string, code: string, actor: Actor): Promise<ReservationView> {
      guard();
      const parsed = parseReturnCode(code);
      return transactor.run(async (trx) => {
        const row = await findReservationByInstance(trx, instanceId);
        if (!row) throw notFound('Reservation of product instance', instanceId);
        const macKey = Buffer.from(row.mac_key, 'base64url');
        const udi = { pid: row.udi_pid, sn: row.udi_sn };
        const matches =
          parsed.sequence >= 1 &&
          parsed.sequence <= row.sequence &&
          checkReturnCode(parsed, macKey, { reservationId: row.id, sequence: parsed.sequence, udi });
        if (!matches) {
          throw new SmartlicError('RESERVATION_CODE_INVALID', {
            message: 'The return code does not match this reservation: it was made for another reservation or product.',
          });
        }
        if (row.status === 'returned') throw new SmartlicError('RESERVATION_CODE_USED', { params: { kind: 'return' } });
        const where = await place(trx, row.va_id);
        const now = clock.now();
        const cancelsUpdate =
          parsed.kind === 'return-authorization' &&
          row.status === 'pending-confirmation' &&
          parsed.sequence === row.sequence;
        if (cancelsUpdate) return cancelUpdate(trx, row, where.account.id, actor, now);
        const installable = parsed.kind === 'return' ? [row.confirmed_sequence, row.sequence] : [1];
        if (!installable.includes(parsed.sequence) || (parsed.kind === 'return-authorization' && row.sequence !== 1)) {
          throw new SmartlicError('RESERVATION_STATE', {
            message: `This return code is for authorization code ${parsed.sequence}, which does not hold the reservation now; enter the return code the device prints for its installed reservation.`,
          });
        }
        await releaseInstanceUsage(trx, { instanceId, vaId: row.va_id });
        await deleteInstance(trx, instanceId);
        await updateReservation(trx, row.id, { status: 'returned', returned_at: now, updated_at: now });
        await recordEvent(trx, {
          at: now,
          actor,
          type: 'reservation.returned',
          accountId: where.account.id,
          vaId: row.va_id,
          detail: { reservationId: row.id, instanceId, udi: `PID:${udi.pid} SN:${udi.sn}`, sequence: parsed.sequence },
        });
        return view({ ...row, status: 'returned' });
      });
    },
  };
}

async function cancelUpdate(
  trx: Transaction<Database>,
  row: ReservationRow,
  accountId: string,
  actor: Actor,
  now: number,
): Promise<ReservationView> {
  const confirmed = JSON.parse(row.confirmed_licenses) as ReservedLicense[];
  const current = await readInstanceUsage(trx, row.instance_id);
  await replaceInstanceUsage(trx, { instanceId: row.instance_id, vaId: row.va_id }, current, asUsage(confirmed));
  // The sequence stays: a later update gets a new one, so no code of the cancelled one matches it.
  await updateReservation(trx, row.id, { status: 'reserved', licenses: row.confirmed_licenses, updated_at: now });
  await recordEvent(trx, {
    at: now,
    actor,
    type: 'reservation.returned',
    accountId,
    vaId: row.va_id,
    detail: { reservationId: row.id, instanceId: row.instance_id, sequence: row.sequence, cancelledUpdate: true },
  });
  return view({ ...row, status: 'reserved', licenses: row.confirmed_licenses });
}

/**
 * Refuses (`RESERVATION_INSUFFICIENT`) a count above what the VA can cover besides this
 * instance's own usage, by the rules of online authorization (license hierarchy, SPEC §2):
 * the tag's own pools first, then its ancestors' pools, as `allocate` gives them. `held` is
 * everything the instance will hold (an update keeps its confirmed counts until it is
 * confirmed). Tags are taken in turn, so siblings cannot both be given a parent's last licenses.
 */
async function checkAvailable(
  trx: Kysely<Database>,
  vaId: string,
  instanceId: string,
  licenses: readonly ReservedLicense[],
  now: number,
  held: readonly ReservedLicense[] = licenses,
): Promise<void> {
  if (licenses.length === 0) return;
  const tree = await readTagTree(trx);
  const own = await readInstanceUsage(trx, instanceId);
  const tags = [...new Set([...held, ...own].flatMap((l) => tree.family(l.tag)))];
  const balances = await readBalances(trx, vaId, now, tags);
  const quantity = new Map([...balances].map(([tag, b]) => [tag, b.quantity]));
  const inUse = new Map([...balances].map(([tag, b]) => [tag, b.inUse]));
  const add = (tag: string, count: number) => inUse.set(tag, (inUse.get(tag) ?? 0) + count);
  for (const u of own) add(u.tag, -u.count);
  const asked = new Map(licenses.map((l) => [l.tag, l.count]));
  for (const l of held) add(l.tag, Math.max(0, l.count - (asked.get(l.tag) ?? 0)));
  for (const l of licenses) {
    const allocation = allocate({ quantity, inUse, parentOf: tree.parentOf });
    const available = headroom(l.tag, allocation, tree.parentOf);
    if (l.count > available) {
      throw new SmartlicError('RESERVATION_INSUFFICIENT', {
        params: { tag: l.tag, requested: l.count, available },
        context: { tag: l.tag, requested: l.count, available },
      });
    }
    add(l.tag, l.count);
  }
}

/** Sums a tag named twice; refuses an empty SLR. */
function normalizeLicenses(licenses: readonly ReservedLicense[]): ReservedLicense[] {
  const sums = new Map<string, number>();
  for (const l of licenses) sums.set(l.tag, (sums.get(l.tag) ?? 0) + l.count);
  if (sums.size === 0) {
    throw new SmartlicError('BAD_REQUEST', {
      message: 'The request is not valid: name at least one license (TAG:COUNT), or reserve all features with plr.',
    });
  }
  return toLicenses(sums);
}

function toLicenses(counts: ReadonlyMap<string, number>): ReservedLicense[] {
  return [...counts]
    .filter(([, count]) => count > 0)
    .map(([tag, count]) => ({ tag, count }))
    .sort((a, b) => (a.tag < b.tag ? -1 : a.tag > b.tag ? 1 : 0));
}

function asUsage(licenses: readonly ReservedLicense[]) {
  return licenses.map((l) => ({ tag: l.tag, count: l.count, displayName: null }));
}

function view(row: ReservationRow): ReservationView {
  return {
    id: row.id,
    instanceId: row.instance_id,
    status: row.status,
    sequence: row.status === 'reserved' ? row.confirmed_sequence : row.sequence,
    plr: row.plr === 1,
    licenses: JSON.parse(row.status === 'reserved' ? row.confirmed_licenses : row.licenses) as ReservedLicense[],
  };
}

export type ReservationService = ReturnType<typeof createReservationService>;
