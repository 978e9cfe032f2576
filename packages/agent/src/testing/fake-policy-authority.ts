import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type Clock,
  DEFAULT_POLICY_NAME,
  DEFAULT_POLICY_TERMS,
  type Envelope,
  POLICY_ROUTES,
  type Policy,
  type RumReport,
  type SignedRumReport,
  signEnvelope,
  type TrustRequest,
  type UsageRequest,
  verifyEnvelope,
} from '@smartlic/protocol/core';
import { checkCsr, createRootCa, createSigningCa, type FakeIssuer, issueIdCertificate } from './fake-pki.js';

// Test support: a small policy-model authority over real HTTP on 127.0.0.1. It records each report
// id once, as the real authority does, and can drop answers (the report recorded, the ACK lost).

interface Device {
  instanceId: string;
  udi: { pid: string; sn: string };
  serial: string;
  publicKey: import('node:crypto').KeyObject;
}

/** A fake authority for the policy model (trust, usage). */
export class FakePolicyAuthority {
  /** Every report recorded, by id (each once). */
  readonly recorded = new Map<string, RumReport>();
  /** How many reports were delivered, repeats included. */
  delivered = 0;
  /** Answers to drop after recording (as a connection lost before the ACK arrived). */
  dropAnswers = 0;
  policy: Policy = { name: DEFAULT_POLICY_NAME, custom: false, classes: structuredClone(DEFAULT_POLICY_TERMS) };
  private readonly devices = new Map<string, Device>();

  private constructor(
    readonly url: string,
    readonly root: FakeIssuer,
    readonly signing: FakeIssuer,
    private readonly server: Server,
    private readonly clock: Clock,
  ) {}

  static async start(clock: Clock): Promise<FakePolicyAuthority> {
    const root = await createRootCa('Fake Policy Root', clock.now());
    const signing = await createSigningCa(root, 'Fake Policy Signing', clock.now());
    let self: FakePolicyAuthority | undefined;
    const server = createServer((req, res) => {
      void self?.handle(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    self = new FakePolicyAuthority(`http://127.0.0.1:${port}`, root, signing, server, clock);
    return self;
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.closeAllConnections();
      this.server.close(() => resolve());
    });
  }

  private sign<P extends object>(payload: P): Envelope<P> {
    return signEnvelope(payload, this.signing.pair.privateKey, this.signing.serial);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Envelope<Record<string, unknown>>;
    const answer = (status: number, json: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    if (req.url === POLICY_ROUTES.trust) return answer(200, await this.trust(body as Envelope<TrustRequest>));
    if (req.url === POLICY_ROUTES.usage) {
      const result = this.usage(body as Envelope<UsageRequest>);
      if (!result) return answer(401, { code: 'SIGNATURE_MISMATCH', message: 'data and signature do not match' });
      if (this.dropAnswers > 0) {
        this.dropAnswers--;
        res.socket?.destroy();
        return;
      }
      return answer(200, result);
    }
    answer(404, { code: 'NOT_FOUND', message: 'No such resource.' });
  }

  private async trust(envelope: Envelope<TrustRequest>) {
    const p = envelope.payload;
    const csr = await checkCsr(p.csr);
    if (!csr || !verifyEnvelope(envelope, csr.publicKey)) throw new Error('bad trust request');
    const instanceId = randomUUID();
    const now = this.clock.now();
    const cert = await issueIdCertificate(this.signing, csr, {
      instanceId,
      pid: p.udi.pid,
      sn: p.udi.sn,
      domain: 'example.com',
      now,
      validityMs: 360 * 86_400_000,
    });
    this.devices.set(instanceId, { instanceId, udi: p.udi, serial: cert.serial, publicKey: csr.publicKey });
    return this.sign({
      type: 'trust-response',
      version: 1,
      timestamp: now,
      nonce: p.nonce,
      instanceId,
      idCertificate: cert.pem,
      idCertSerial: cert.serial,
      idCertExpiresAt: cert.expiresAt,
      signingCertificate: this.signing.pem,
      signingCertSerial: this.signing.serial,
      smartAccount: { id: 'sa', name: 'Example', domain: 'example.com' },
      virtualAccount: { id: 'va', name: 'Lab' },
      exportControlled: false,
      trustedAt: now,
      policy: this.policy,
    });
  }

  private usage(envelope: Envelope<UsageRequest>) {
    const p = envelope.payload;
    const device = this.devices.get(p.instanceId);
    if (!device || !verifyEnvelope(envelope, device.publicKey)) return undefined;
    const reports = p.reports as SignedRumReport[];
    if (!reports.every((r) => verifyEnvelope(r, device.publicKey) && r.payload.instanceId === device.instanceId))
      return undefined;
    for (const r of reports) {
      this.delivered++;
      if (!this.recorded.has(r.payload.reportId)) this.recorded.set(r.payload.reportId, r.payload);
    }
    const now = this.clock.now();
    const ack = this.sign({
      type: 'ack',
      version: 1,
      ackId: randomUUID(),
      instanceId: device.instanceId,
      udi: device.udi,
      reportIds: reports.map((r) => r.payload.reportId),
      policy: this.policy,
      issuedAt: now,
    });
    return this.sign({
      type: 'usage-response',
      version: 1,
      timestamp: now,
      nonce: p.nonce,
      instanceId: device.instanceId,
      ack,
    });
  }
}
