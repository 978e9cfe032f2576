import { randomUUID } from 'node:crypto';
import {
  type Ack,
  type AckFile,
  type Envelope,
  type LicenseClass,
  type Policy,
  PROTOCOL_VERSION,
  type SignedAck,
  type SlacRequestFile,
  type SlacResponse,
  type SlacReturnResponse,
  SmartlicError,
  type TrustResponse,
  trustCodeFields,
  type UsageFile,
  type UsageResponse,
} from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import { notFound } from '../../errors.js';
import type { Database } from '../../storage/schema.js';
import { findVirtualAccount } from '../accounts/account-store.js';
import type { DeviceDeps } from '../device/device-deps.js';
import { authenticateInstance, refuseStaleIdentity } from '../device/device-identity.js';
import { recordNonce } from '../device/nonce-store.js';
import { registerDevice } from '../device/registration/register-service.js';
import { replayedNonce } from '../device/replay.js';
import { deviceActor } from '../events/device-events.js';
import { type Actor, recordEvent } from '../events/event-recorder.js';
import { touchInstanceInVa } from '../instances/instance-store.js';
import { signResponse } from '../pki/response-signer.js';
import { markPolicyDevice } from './policy-devices.js';
import { acceptPolicyRequest, type PolicyMessageType, type PolicyRequest } from './policy-request.js';
import { readVaPolicy } from './policy-terms.js';
import { loadReportingDevice, type ReportingDevice, recordReports, verifyReports } from './report-ingest.js';
import { answerSlacFile, issueSlac, type SlacFileAnswer } from './slac-file.js';
import { trustInPlace } from './trust-in-place.js';

/** What `admin usage import` answers: the counts, and the ACK file to hand back to the device. */
export interface UsageImportAnswer {
  /** Reports in the file. */
  reports: number;
  /** Report ids the ACK acknowledges (every report of the file: all are recorded now). */
  acknowledged: number;
  /** Reports recorded by this import (the others had been recorded before and count nothing again). */
  recorded: number;
  ackFile: AckFile;
}

/** A custom policy of a VA for one license class (`admin policy set`). */
export interface PolicySetting {
  licenseClass: LicenseClass;
  firstReportDays: number;
  reportingFrequencyDays: number;
  onChangeDays: number;
}

/**
 * Smart Licensing Using Policy on the authority (SPEC §9): trust codes from tokens, RUM reports
 * online and by file (recorded once per report id, usage into the same store and compliance as
 * authorizations), ACKs carrying the VA's policy, custom policies, SLAC issue and return.
 */
export function createPolicyService(deps: DeviceDeps) {
  const { transactor, clock, pki } = deps;

  async function signAck(
    device: ReportingDevice,
    reportIds: string[],
    policy: Policy,
    now: number,
  ): Promise<SignedAck> {
    const ack: Ack = {
      type: 'ack',
      version: PROTOCOL_VERSION,
      ackId: randomUUID(),
      instanceId: device.id,
      udi: { pid: device.pid, sn: device.sn },
      reportIds,
      policy,
      issuedAt: now,
    };
    return signResponse(pki.current(), ack);
  }

  async function mustLoad(db: Kysely<Database>, instanceId: string): Promise<ReportingDevice> {
    const device = await loadReportingDevice(db, instanceId);
    if (!device) throw new SmartlicError('UNKNOWN_INSTANCE', { context: { instanceId } });
    return device;
  }

  return {
    /** Validates a policy-model message of `type` and the device clock. */
    accept<T extends PolicyMessageType>(type: T, body: unknown): PolicyRequest<T> {
      return acceptPolicyRequest(type, body, clock.now(), deps.clockToleranceMs);
    },

    /**
     * Trust code (`license smart trust idtoken`): the registration use case (token rules, UDI bound,
     * `force` only within the token's Smart Account, one transaction), answered as a trust code with
     * the VA's policy.
     */
    async trust(request: PolicyRequest<'trust'>): Promise<Envelope<TrustResponse>> {
      const inPlace = await trustInPlace(deps, request);
      if (inPlace) {
        const place = await deps.places.get(deps.db, inPlace.vaId);
        if (!place) throw new SmartlicError('UNKNOWN_INSTANCE', { context: { instanceId: inPlace.instanceId } });
        const now = clock.now();
        return signResponse(pki.current(), {
          type: 'trust-response',
          version: PROTOCOL_VERSION,
          timestamp: now,
          nonce: request.payload.nonce,
          instanceId: inPlace.instanceId,
          idCertificate: inPlace.cert.pem,
          idCertSerial: inPlace.cert.serial,
          idCertExpiresAt: inPlace.cert.expiresAt,
          signingCertificate: pki.current().signingCertPem,
          signingCertSerial: pki.current().signingCertSerial,
          smartAccount: place.account,
          virtualAccount: place.va,
          exportControlled: inPlace.exportControlled,
          trustedAt: now,
          policy: await readVaPolicy(deps.db, inPlace.vaId),
        } satisfies TrustResponse);
      }
      const { scope: _scope, type: _type, ...rest } = request.payload;
      const registered = await registerDevice(
        deps,
        { envelope: request.envelope, payload: { ...rest, type: 'register' } },
        (trx, instanceId, now) => markPolicyDevice(trx, instanceId, now),
      );
      const r = registered.envelope.payload;
      const policy = await readVaPolicy(deps.db, r.virtualAccount.id);
      return signResponse(pki.current(), {
        type: 'trust-response',
        version: PROTOCOL_VERSION,
        timestamp: clock.now(),
        nonce: request.payload.nonce,
        ...trustCodeFields(r),
        trustedAt: r.timestamp,
        policy,
      } satisfies TrustResponse);
    },

    /** Online reporting: records the reports (once each) with the nonce, and answers the signed ACK. */
    async usage(request: PolicyRequest<'usage'>): Promise<Envelope<UsageResponse>> {
      const { payload } = request;
      const identity = await authenticateInstance(deps, request);
      const device = await mustLoad(deps.db, identity.id);
      const received = (request.envelope.payload.reports as unknown[]) ?? [];
      await verifyReports(device, payload.reports, received);
      const tree = await deps.tags.get();
      const now = clock.now();
      const { reportIds, policy } = await transactor.run(async (trx) => {
        if (!(await recordNonce(trx, payload.nonce, now))) throw replayedNonce();
        const touched = await touchInstanceInVa(trx, identity.id, identity.signedWith.serial, now);
        if (touched === undefined) return refuseStaleIdentity(trx, deps, identity);
        const current = { ...device, vaId: touched.vaId };
        const recorded = await recordReports(
          trx,
          tree,
          current,
          payload.reports.map((r) => r.payload),
          { now, actor: deviceActor(device.id), via: 'online' },
        );
        return { reportIds: recorded.reportIds, policy: await readVaPolicy(trx, touched.vaId) };
      });
      const ack = await signAck(device, reportIds, policy, now);
      return signResponse(pki.current(), {
        type: 'usage-response',
        version: PROTOCOL_VERSION,
        timestamp: clock.now(),
        nonce: payload.nonce,
        instanceId: device.id,
        ack,
      } satisfies UsageResponse);
    },

    /**
     * Offline reporting (`admin usage import`): every report of the file is checked first (this
     * instance's, signed by it); then all are recorded once each in one transaction, and the ACK
     * file for the device is answered. A bad report refuses the whole file and records nothing.
     */
    async importUsage(
      instanceId: string,
      file: UsageFile,
      received: unknown,
      actor: Actor,
    ): Promise<UsageImportAnswer> {
      if (file.instanceId !== instanceId) {
        throw new SmartlicError('BAD_REQUEST', {
          message: `This usage file is of product instance ${file.instanceId}, not ${instanceId}; nothing was recorded.`,
        });
      }
      const device = await mustLoad(deps.db, instanceId);
      if (file.udi.pid !== device.pid || file.udi.sn !== device.sn) {
        throw new SmartlicError('BAD_REQUEST', {
          message: `This usage file is of PID:${file.udi.pid} SN:${file.udi.sn}, not of the product instance's PID:${device.pid} SN:${device.sn}; nothing was recorded.`,
        });
      }
      const rawReports = ((received as { reports?: unknown[] }).reports ?? []) as unknown[];
      await verifyReports(device, file.reports, rawReports);
      const tree = await deps.tags.get();
      const now = clock.now();
      const { recorded, policy } = await transactor.run(async (trx) => {
        const current = await loadReportingDevice(trx, instanceId);
        if (!current) throw new SmartlicError('UNKNOWN_INSTANCE', { context: { instanceId } });
        const recorded = await recordReports(
          trx,
          tree,
          { ...device, vaId: current.vaId },
          file.reports.map((r) => r.payload),
          { now, actor, via: 'file' },
        );
        return { recorded, policy: await readVaPolicy(trx, current.vaId) };
      });
      const ack = await signAck(device, recorded.reportIds, policy, now);
      return {
        reports: file.reports.length,
        acknowledged: recorded.reportIds.length,
        recorded: recorded.recorded,
        ackFile: {
          format: 'smartlic-ack',
          version: PROTOCOL_VERSION,
          udi: { pid: device.pid, sn: device.sn },
          ack,
          signingCertificate: pki.current().signingCertPem,
          ...(pki.current().chainPems.length > 0 ? { chain: pki.current().chainPems } : {}),
        },
      };
    },

    /** Offline SLAC (`admin authorization import`): answers a device's SLAC request file with the SLAC file. */
    importSlacRequest(
      instanceId: string,
      file: SlacRequestFile,
      received: unknown,
      actor: Actor,
    ): Promise<SlacFileAnswer> {
      return answerSlacFile(deps, instanceId, file, received, actor);
    },

    /** The policy of a VA: defaults with its custom terms. */
    async getPolicy(vaId: string): Promise<Policy> {
      if (!(await findVirtualAccount(deps.db, vaId))) throw notFound('Virtual account', vaId);
      return readVaPolicy(deps.db, vaId);
    },

    /** Sets a VA's custom terms for one license class; devices get them with their next ACK. */
    async setPolicy(vaId: string, setting: PolicySetting, actor: Actor): Promise<Policy> {
      const now = clock.now();
      return transactor.run(async (trx) => {
        if (!(await findVirtualAccount(trx, vaId))) throw notFound('Virtual account', vaId);
        const values = {
          first_report_days: setting.firstReportDays,
          frequency_days: setting.reportingFrequencyDays,
          on_change_days: setting.onChangeDays,
          updated_at: now,
        };
        await trx
          .insertInto('va_policies')
          .values({ va_id: vaId, license_class: setting.licenseClass, ...values })
          .onConflict((oc) => oc.columns(['va_id', 'license_class']).doUpdateSet(values))
          .execute();
        await recordEvent(trx, { at: now, actor, type: 'policy.set', vaId, detail: { ...setting } });
        return readVaPolicy(trx, vaId);
      });
    },

    /**
     * SLAC (`license smart authorization request add TAG local`): granted when the VA has the
     * licenses free (its covered balance's surplus), recorded with an event; refused otherwise.
     */
    async slac(request: PolicyRequest<'slac'>): Promise<Envelope<SlacResponse>> {
      const { payload } = request;
      const identity = await authenticateInstance(deps, request);
      const device = await mustLoad(deps.db, identity.id);
      const tree = await deps.tags.get();
      const now = clock.now();
      const slac = await transactor.run(async (trx) => {
        if (!(await recordNonce(trx, payload.nonce, now))) throw replayedNonce();
        const touched = await touchInstanceInVa(trx, identity.id, identity.signedWith.serial, now);
        if (touched === undefined) return refuseStaleIdentity(trx, deps, identity);
        return issueSlac(trx, tree, {
          slacId: randomUUID(),
          device,
          vaId: touched.vaId,
          licenses: payload.licenses,
          now,
          actor: deviceActor(device.id),
        });
      });
      return signResponse(pki.current(), {
        type: 'slac-response',
        version: PROTOCOL_VERSION,
        timestamp: clock.now(),
        nonce: payload.nonce,
        instanceId: device.id,
        slac,
      } satisfies SlacResponse);
    },

    /** SLAC return (`license smart authorization return local`). */
    async slacReturn(request: PolicyRequest<'slac-return'>): Promise<Envelope<SlacReturnResponse>> {
      const { payload } = request;
      const identity = await authenticateInstance(deps, request);
      const now = clock.now();
      await transactor.run(async (trx) => {
        if (!(await recordNonce(trx, payload.nonce, now))) throw replayedNonce();
        const touched = await touchInstanceInVa(trx, identity.id, identity.signedWith.serial, now);
        if (touched === undefined) return refuseStaleIdentity(trx, deps, identity);
        const result = await trx
          .updateTable('slac_authorizations')
          .set({ returned_at: now })
          .where('id', '=', payload.slacId)
          .where('instance_id', '=', identity.id)
          .where('returned_at', 'is', null)
          .executeTakeFirst();
        if (Number(result.numUpdatedRows) !== 1) {
          throw new SmartlicError('NOT_FOUND', {
            message: `This product instance holds no authorization code ${payload.slacId} (never issued, or returned already).`,
          });
        }
        await recordEvent(trx, {
          at: now,
          actor: deviceActor(identity.id),
          type: 'slac.returned',
          vaId: touched.vaId,
          detail: { instanceId: identity.id, slacId: payload.slacId },
        });
      });
      return signResponse(pki.current(), {
        type: 'slac-return-response',
        version: PROTOCOL_VERSION,
        timestamp: clock.now(),
        nonce: payload.nonce,
        instanceId: identity.id,
        slacId: payload.slacId,
      } satisfies SlacReturnResponse);
    },
  };
}

export type PolicyService = ReturnType<typeof createPolicyService>;
