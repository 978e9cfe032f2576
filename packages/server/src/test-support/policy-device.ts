import { randomUUID } from 'node:crypto';
import {
  type Ack,
  createCsr,
  type Envelope,
  generateKeyPair,
  type KeyPair,
  newNonce,
  POLICY_ROUTES,
  type RumReport,
  type SignedRumReport,
  type SlacLicense,
  type SlacRequestFile,
  signEnvelope,
  type Udi,
  type UsageFile,
  verifyEnvelope,
  verifySignerChain,
} from '@smartlic/protocol';
import { expect } from 'vitest';
import { type JsonAnswer, sendJson } from './http.js';
import type { DeviceContext } from './sim-device.js';

// Test support: a simulated policy-model device built from protocol helpers only.

/** A policy device: installs a trust code, signs RUM reports, sends them and checks the ACK. */
export class PolicyDevice {
  keys: KeyPair = generateKeyPair('ES256');
  instanceId = '';
  idCertSerial = '';
  signingCertSerial = '';
  signingCertPem = '';

  constructor(
    readonly ctx: DeviceContext,
    readonly udi: Udi,
  ) {}

  fresh() {
    return { version: 1 as const, timestamp: this.ctx.clock.now(), nonce: newNonce() };
  }

  async trust(token: string, force = false): Promise<JsonAnswer> {
    const csr = await createCsr(this.keys, `CN=${this.udi.pid}`);
    const payload = {
      type: 'trust',
      ...this.fresh(),
      idToken: token,
      softwareTag: 'regid.2026-01.com.example.product',
      udi: this.udi,
      csr,
      force,
      scope: 'local',
    };
    const answer = await this.send(POLICY_ROUTES.trust, signEnvelope(payload, this.keys.privateKey, 'csr'));
    if (answer.status === 200) {
      const body = answer.body as Envelope<Record<string, string>>;
      const signer = verifySignerChain(
        body.payload.signingCertificate as string,
        [this.ctx.rootCaPem],
        this.ctx.clock.now(),
      );
      expect(verifyEnvelope(body, signer.publicKey)).toBe(true);
      this.instanceId = body.payload.instanceId as string;
      this.idCertSerial = body.payload.idCertSerial as string;
      this.signingCertSerial = signer.serial;
      this.signingCertPem = body.payload.signingCertificate as string;
    }
    return answer;
  }

  /** A signed RUM report of `counts` per tag over the hour before now. */
  report(counts: Record<string, number>, overrides: Partial<RumReport> = {}): SignedRumReport {
    const end = this.ctx.clock.now();
    const payload: RumReport = {
      type: 'rum-report',
      version: 1,
      reportId: randomUUID(),
      instanceId: this.instanceId,
      idCertSerial: this.idCertSerial,
      udi: this.udi,
      createdAt: end,
      usage: Object.entries(counts).map(([tag, count]) => ({
        tag,
        licenseClass: 'unenforced-perpetual' as const,
        measurements: [{ start: end - 3_600_000, end, sampleIntervalMs: 900_000, samples: 4, count }],
      })),
      ...overrides,
    };
    return signEnvelope(payload, this.keys.privateKey, this.idCertSerial);
  }

  usageEnvelope(reports: SignedRumReport[]) {
    const payload = {
      type: 'usage',
      ...this.fresh(),
      instanceId: this.instanceId,
      idCertSerial: this.idCertSerial,
      signingCertSerial: this.signingCertSerial,
      reports,
    };
    return signEnvelope(payload, this.keys.privateKey, this.idCertSerial);
  }

  /** An identified message of `type`, signed with the trust-code key. */
  signIdentified(type: string, extra: Record<string, unknown>) {
    const payload = {
      type,
      ...this.fresh(),
      instanceId: this.instanceId,
      idCertSerial: this.idCertSerial,
      signingCertSerial: this.signingCertSerial,
      ...extra,
    };
    return signEnvelope(payload, this.keys.privateKey, this.idCertSerial);
  }

  async sync(reports: SignedRumReport[]): Promise<JsonAnswer> {
    return this.send(POLICY_ROUTES.usage, this.usageEnvelope(reports));
  }

  /** The verified ACK of a usage answer. */
  ackOf(answer: JsonAnswer): Ack {
    const body = answer.body as Envelope<{ ack: Envelope<Ack> }>;
    const signer = verifySignerChain(this.signingCertPem, [this.ctx.rootCaPem], this.ctx.clock.now());
    expect(verifyEnvelope(body, signer.publicKey)).toBe(true);
    expect(verifyEnvelope(body.payload.ack, signer.publicKey)).toBe(true);
    return body.payload.ack.payload;
  }

  usageFile(reports: SignedRumReport[]): UsageFile {
    return {
      format: 'smartlic-usage',
      version: 1,
      udi: this.udi,
      instanceId: this.instanceId,
      createdAt: this.ctx.clock.now(),
      reports,
    };
  }

  /** An offline SLAC request file (`license smart authorization request save`), signed with the trust-code key. */
  slacRequestFile(licenses: SlacLicense[], requestId: string = randomUUID()): SlacRequestFile {
    const payload = {
      type: 'slac-file-request' as const,
      version: 1 as const,
      requestId,
      instanceId: this.instanceId,
      idCertSerial: this.idCertSerial,
      udi: this.udi,
      licenses,
      createdAt: this.ctx.clock.now(),
    };
    return {
      format: 'smartlic-slac-request',
      version: 1,
      udi: this.udi,
      instanceId: this.instanceId,
      request: signEnvelope(payload, this.keys.privateKey, this.idCertSerial),
    };
  }

  send(route: string, envelope: unknown): Promise<JsonAnswer> {
    return sendJson(`${this.ctx.url}${route}`, { method: 'POST', body: envelope });
  }
}
