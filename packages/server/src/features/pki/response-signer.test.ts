import { X509Certificate } from 'node:crypto';
import { canonicalBytes, ManualClock, verifyBytes } from '@smartlic/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTempDir } from '../../test-support/temp-dir.js';
import { type AuthorityPki, loadOrCreatePki } from './authority-pki.js';
import { signAnswer, signResponse } from './response-signer.js';

describe('signAnswer: the answer written from its signed canonical form', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let pki: AuthorityPki;
  beforeEach(async () => {
    dir = makeTempDir();
    pki = await loadOrCreatePki({ dataDir: dir.path, clock: new ManualClock() });
  });
  afterEach(() => dir.remove());

  // Keys out of order, nesting, characters JSON escapes, an undefined member (left out by both).
  const payload = {
    type: 'authorize-response',
    status: 'InCompliance',
    entitlements: [{ tag: 'regid.2026-01.com.example.ü "quoted" \\ \u2028', requested: 2, displayName: undefined }],
    smartAccount: { name: 'Acme 😀', id: 'a1', domain: 'acme.example' },
    expiresAt: 1_800_000_000_000,
    nothing: undefined,
  };

  const verifies = (text: string) => {
    const parsed = JSON.parse(text) as { payload: unknown; signature: { value: string } };
    const key = new X509Certificate(pki.signingCertPem).publicKey;
    return verifyBytes(canonicalBytes(parsed.payload), Buffer.from(parsed.signature.value, 'base64url'), key, 'ES256');
  };

  it('sends JSON that parses to the envelope it returns, whose signature verifies over the parsed payload', async () => {
    const { envelope, json } = await signAnswer(pki, payload);
    expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(envelope)));
    expect(json.startsWith(`{"payload":${canonicalBytes(payload).toString('utf8')},"signature":{`)).toBe(true);
    expect(verifies(json)).toBe(true);
    // Tampering with the text breaks the signature: the check above can fail.
    expect(verifies(json.replace('"requested":2', '"requested":3'))).toBe(false);
  });

  it('carries chain and signer as signResponse does', async () => {
    const satellite = { ...pki, chainPems: ['-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n'] };
    const { envelope, json } = await signAnswer(satellite, payload, 'ab12');
    const reference = await signResponse(satellite, payload, 'ab12');
    const { signature, ...rest } = JSON.parse(json) as Record<string, unknown> & { signature: object };
    const { signature: referenceSignature, ...referenceRest } = JSON.parse(JSON.stringify(reference)) as Record<
      string,
      unknown
    > & { signature: { value: string } };
    expect(rest).toEqual(referenceRest);
    expect(signature).toEqual({ ...referenceSignature, value: envelope.signature.value });
    expect(rest).toHaveProperty('chain', satellite.chainPems);
    expect(rest).toHaveProperty('signer', pki.signingCertPem);
    expect(verifies(json)).toBe(true);
  });
});
