import {
  checkSlacFile,
  parseWith,
  type Slac,
  type SlacFile,
  verifyEnvelope,
  verifySignerChain,
} from '@smartlic/protocol/core';

/** A SLAC file that passed every check, or why it did not. */
export type SlacFileCheck =
  | { ok: true; slac: Slac }
  | { ok: false; code: 'BAD_REQUEST' | 'SIGNATURE_MISMATCH'; message: string };

/**
 * Checks a SLAC file (`admin authorization import --out`) for this device: its shape; its signing
 * certificate chained (through the file's `chain`) to the trust anchors; the SLAC's signature over
 * its payload as written; its UDI and product instance the device's own.
 */
export function checkSlacFileFor(
  json: unknown,
  device: { instanceId: string; udi: { pid: string; sn: string } },
  anchors: readonly string[],
  now: number,
): SlacFileCheck {
  const parsed = parseWith(checkSlacFile, json);
  if (!parsed.ok) return { ok: false, code: 'BAD_REQUEST', message: `The file is not a SLAC file: ${parsed.problem}.` };
  const file: SlacFile = parsed.value;
  const slac = file.slac.payload;
  const { pid, sn } = device.udi;
  if (
    file.udi.pid !== pid ||
    file.udi.sn !== sn ||
    slac.udi.pid !== pid ||
    slac.udi.sn !== sn ||
    slac.instanceId !== device.instanceId
  ) {
    return {
      ok: false,
      code: 'BAD_REQUEST',
      message: `This authorization code is for another product (PID:${slac.udi.pid} SN:${slac.udi.sn}); it was not imported.`,
    };
  }
  const mismatch = (why: string): SlacFileCheck => ({
    ok: false,
    code: 'SIGNATURE_MISMATCH',
    message: `Data and signature do not match: ${why}.`,
  });
  let signer: ReturnType<typeof verifySignerChain>;
  try {
    signer = verifySignerChain(file.signingCertificate, anchors, now, file.chain ?? []);
  } catch {
    return mismatch('the authorization code is not signed by a trusted authority');
  }
  const raw = (json as { slac: { payload: unknown } }).slac;
  if (
    file.slac.signature.certSerial !== signer.serial ||
    !verifyEnvelope({ payload: raw.payload, signature: file.slac.signature }, signer.publicKey)
  ) {
    return mismatch('the authorization code was altered');
  }
  return { ok: true, slac };
}
