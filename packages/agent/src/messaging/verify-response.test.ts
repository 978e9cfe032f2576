import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { DAY, signEnvelope, toWebKeys } from '@smartlic/protocol';
import { describe, expect, it } from 'vitest';
import { createRootCa, createSigningCa, type FakeIssuer } from '../testing/fake-pki.js';
import { verifyResponse } from './verify-response.js';

describe('verifyResponse through a satellite chain', () => {
  const now = Date.UTC(2026, 5, 1);
  const nonce = 'bm9uY2Utbm9uY2Utbm9uY2U';
  const instanceId = randomUUID();

  function authorizeAnswer(signer: FakeIssuer, chain?: string[]) {
    const payload = {
      type: 'authorize-response',
      version: 1,
      timestamp: now,
      nonce,
      instanceId,
      status: 'InCompliance',
      entitlements: [],
      authorizedAt: now,
      expiresAt: now + 90 * DAY,
      renewIntervalMs: 30 * DAY,
      retryIntervalMs: DAY,
    };
    const envelope = signEnvelope(payload, signer.pair.privateKey, signer.serial);
    return chain ? { ...envelope, chain } : envelope;
  }

  async function tree() {
    const root = await createRootCa('CN=root', now);
    const sat1 = await createSigningCa(root, 'CN=sat1', now);
    const sat3 = await createSigningCa(sat1, 'CN=sat3', now);
    return { root, sat1, sat3 };
  }

  it('accepts, with only the root as anchor, an answer of a satellite and of a satellite under a satellite', async () => {
    const { root, sat1, sat3 } = await tree();
    const fromSat1 = verifyResponse('authorize', authorizeAnswer(sat1), {
      nonce,
      anchors: [root.pem],
      now,
      signingCertPem: sat1.pem,
      instanceId,
    });
    expect(fromSat1.ok).toBe(true);
    const fromSat3 = verifyResponse('authorize', authorizeAnswer(sat3, [sat1.pem]), {
      nonce,
      anchors: [root.pem],
      now,
      signingCertPem: sat3.pem,
      instanceId,
    });
    expect(fromSat3).toMatchObject({ ok: true, signer: { serial: sat3.serial } });
  });

  it('refuses the answer of a satellite under a satellite without its chain, or with a forged intermediate', async () => {
    const { root, sat3 } = await tree();
    const expect3 = { nonce, anchors: [root.pem], now, signingCertPem: sat3.pem, instanceId };
    expect(verifyResponse('authorize', authorizeAnswer(sat3), expect3)).toEqual({
      ok: false,
      problem: 'data and signature do not match: the signing certificate is not issued by a trusted authority',
    });
    // An intermediate named like Sat1 under the real root, with another key: Sat3 is not signed by it.
    const forged = await createSigningCa(root, 'CN=sat1', now);
    expect(verifyResponse('authorize', authorizeAnswer(sat3, [forged.pem]), expect3)).toMatchObject({ ok: false });
    // A whole rogue tree: its root is not an anchor of the device.
    const rogueRoot = await createRootCa('CN=root', now);
    const rogueSat1 = await createSigningCa(rogueRoot, 'CN=sat1', now);
    const rogueSat3 = await createSigningCa(rogueSat1, 'CN=sat3', now);
    expect(
      verifyResponse('authorize', authorizeAnswer(rogueSat3, [rogueSat1.pem, rogueRoot.pem]), {
        ...expect3,
        signingCertPem: rogueSat3.pem,
      }),
    ).toMatchObject({ ok: false, problem: expect.stringMatching(/not issued by a trusted authority/) });
  });

  it('takes a renewed signing certificate of the same key from `signer`, and refuses one of another key', async () => {
    const { root, sat1 } = await tree();
    const renewed = await reissue(root, sat1);
    const answer = { ...authorizeAnswer({ ...sat1, serial: renewed.serial }), signer: renewed.pem };
    const verified = verifyResponse('authorize', answer, {
      nonce,
      anchors: [root.pem],
      now,
      signingCertPem: sat1.pem,
      instanceId,
    });
    expect(verified).toMatchObject({ ok: true, renewedSigner: { pem: renewed.pem, serial: renewed.serial } });
    const other = await createSigningCa(root, 'CN=sat1', now);
    const foreign = { ...authorizeAnswer(other), signer: other.pem };
    expect(
      verifyResponse('authorize', foreign, { nonce, anchors: [root.pem], now, signingCertPem: sat1.pem, instanceId }),
    ).toEqual({ ok: false, problem: 'the response names a new signing certificate for another key' });
  });
});

/** The certificate of `ca`'s key issued again by `parent` (a renewal): same key and name, new serial. */
async function reissue(parent: FakeIssuer, ca: FakeIssuer): Promise<{ pem: string; serial: string }> {
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: '7a11ce',
    subject: ca.cert.subjectName.toString(),
    issuer: parent.cert.subjectName.toString(),
    notBefore: new Date(Date.UTC(2026, 0, 1)),
    notAfter: new Date(Date.UTC(2027, 0, 1)),
    publicKey: (await toWebKeys(ca.pair)).publicKey as never,
    signingKey: (await toWebKeys(parent.pair)).privateKey as never,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [new x509.BasicConstraintsExtension(true, undefined, true)],
  });
  return { pem: cert.toString('pem'), serial: '7a11ce' };
}
