import { PROTOCOL_VERSION, type Slac, type SlacFile, type SlacRequestFile, SmartlicError } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import type { Database } from '../../storage/schema.js';
import { surplusOf } from '../compliance/compliance.js';
import { readCoveredBalances } from '../compliance/covered-balances.js';
import type { DeviceDeps } from '../device/device-deps.js';
import { verifyDeviceSignature } from '../device/device-signature.js';
import { type Actor, recordEvent } from '../events/event-recorder.js';
import { signResponse } from '../pki/response-signer.js';
import type { TagTree } from '../tags/tag-tree.js';
import { loadReportingDevice } from './report-ingest.js';

/** What `admin authorization import` answers: the SLAC file for the device, and whether it was issued now. */
export interface SlacFileAnswer {
  slacId: string;
  /** False when this request had been answered before (the same SLAC again, nothing issued). */
  issued: boolean;
  slacFile: SlacFile;
}

/**
 * Answers an offline SLAC request file (SPEC §9 "saved to a file and answered by the authority"):
 * the file must be of `instanceId` and signed by it over the request as received. The request id is
 * the SLAC id, so the same file again answers the same SLAC and sets nothing more aside. Granted
 * when the VA has the licenses free, as online; one transaction with its `slac.issued` event.
 */
export async function answerSlacFile(
  deps: DeviceDeps,
  instanceId: string,
  file: SlacRequestFile,
  received: unknown,
  actor: Actor,
): Promise<SlacFileAnswer> {
  const request = file.request.payload;
  const device = await loadReportingDevice(deps.db, instanceId);
  if (!device) throw new SmartlicError('UNKNOWN_INSTANCE', { context: { instanceId } });
  const ownUdi = (u: { pid: string; sn: string }) => u.pid === device.pid && u.sn === device.sn;
  if (
    file.instanceId !== instanceId ||
    request.instanceId !== instanceId ||
    !ownUdi(file.udi) ||
    !ownUdi(request.udi)
  ) {
    throw new SmartlicError('BAD_REQUEST', {
      message: `This authorization request is of PID:${request.udi.pid} SN:${request.udi.sn}, not of product instance ${instanceId}; nothing was issued.`,
    });
  }
  const key = device.keys.get(request.idCertSerial);
  const raw = (received as { request?: { payload?: unknown } }).request?.payload;
  const altered = () =>
    new SmartlicError('SIGNATURE_MISMATCH', {
      message:
        'The authorization request: data and signature do not match (altered, or not signed by this product instance); nothing was issued.',
    });
  if (!key || file.request.signature.certSerial !== request.idCertSerial) throw altered();
  await verifyDeviceSignature({ payload: raw, signature: file.request.signature }, key).catch(() => {
    throw altered();
  });
  const tree = await deps.tags.get();
  const now = deps.clock.now();
  const { slac, issued } = await deps.transactor.run(async (trx) => {
    const before = await trx
      .selectFrom('slac_authorizations')
      .selectAll()
      .where('id', '=', request.requestId)
      .executeTakeFirst();
    if (before) {
      if (before.instance_id !== instanceId) {
        throw new SmartlicError('BAD_REQUEST', {
          message: `Authorization code ${before.id} belongs to another product instance; nothing was issued.`,
        });
      }
      const again: Slac = {
        slacId: before.id,
        instanceId,
        udi: { pid: device.pid, sn: device.sn },
        licenses: JSON.parse(before.licenses) as Slac['licenses'],
        issuedAt: Number(before.issued_at),
      };
      return { slac: again, issued: false };
    }
    const current = await loadReportingDevice(trx, instanceId);
    if (!current) throw new SmartlicError('UNKNOWN_INSTANCE', { context: { instanceId } });
    const slac = await issueSlac(trx, tree, {
      slacId: request.requestId,
      device,
      vaId: current.vaId,
      licenses: request.licenses,
      now,
      actor,
      via: 'file',
    });
    return { slac, issued: true };
  });
  const pki = deps.pki.current();
  const signed = await signResponse(pki, slac);
  return {
    slacId: slac.slacId,
    issued,
    slacFile: {
      format: 'smartlic-slac',
      version: PROTOCOL_VERSION,
      udi: slac.udi,
      slac: { payload: signed.payload, signature: signed.signature },
      signingCertificate: pki.signingCertPem,
      ...(pki.chainPems.length > 0 ? { chain: pki.chainPems } : {}),
    },
  };
}

/**
 * Issues SLAC `slacId` to `device` (online or by file) when its VA has the licenses free
 * (`refuseUnlessFree`): records it in `slac_authorizations` with its `slac.issued` event, in the
 * caller's transaction.
 */
export async function issueSlac(
  trx: Kysely<Database>,
  tree: TagTree,
  issue: {
    slacId: string;
    device: { id: string; pid: string; sn: string };
    vaId: string;
    licenses: Slac['licenses'];
    now: number;
    actor: Actor;
    /** `file`: answered to a request file (said in the event). */
    via?: 'file';
  },
): Promise<Slac> {
  const { device, now } = issue;
  await refuseUnlessFree(trx, tree, issue.vaId, now, issue.licenses);
  const slac: Slac = {
    slacId: issue.slacId,
    instanceId: device.id,
    udi: { pid: device.pid, sn: device.sn },
    licenses: issue.licenses,
    issuedAt: now,
  };
  await trx
    .insertInto('slac_authorizations')
    .values({
      id: slac.slacId,
      instance_id: device.id,
      licenses: JSON.stringify(slac.licenses),
      issued_at: now,
      returned_at: null,
    })
    .execute();
  await recordEvent(trx, {
    at: now,
    actor: issue.actor,
    type: 'slac.issued',
    vaId: issue.vaId,
    detail: {
      instanceId: device.id,
      slacId: slac.slacId,
      licenses: slac.licenses,
      ...(issue.via ? { via: issue.via } : {}),
    },
  });
  return slac;
}

/**
 * Refuses a SLAC (online or by file) unless the VA has `licenses` free now, with the hierarchy's
 * coverage: `RESERVATION_INSUFFICIENT` naming the tags short.
 */
async function refuseUnlessFree(
  trx: Kysely<Database>,
  tree: TagTree,
  vaId: string,
  now: number,
  licenses: ReadonlyArray<{ tag: string; count: number }>,
): Promise<void> {
  const balances = await readCoveredBalances(
    trx,
    tree,
    vaId,
    now,
    licenses.map((l) => l.tag),
  );
  const short = licenses.filter((l) => surplusOf(balances.get(l.tag)) < l.count);
  if (short.length > 0) {
    throw new SmartlicError('RESERVATION_INSUFFICIENT', {
      message: `The Virtual Account does not have enough free licenses for an authorization code: ${short.map((l) => `${l.tag} (${l.count})`).join(', ')}.`,
    });
  }
}
