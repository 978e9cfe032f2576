import {
  type Clock,
  DEFAULT_TIMERS,
  type Envelope,
  type ErrorCode,
  errorMessage,
  newNonce,
  PROTOCOL_VERSION,
  REQUEST_SCHEMAS,
  signEnvelope,
  verifyEnvelope,
} from '@smartlic/protocol';
import type { FakeInstance, FakeLedger } from './fake-ledger.js';
import { checkCsr, type FakeIssuer, issueIdCertificate } from './fake-pki.js';

/** An HTTP answer of the fake: status and JSON body. */
export interface FakeAnswer {
  status: number;
  body: unknown;
}

/** How the fake spoils an otherwise correct answer. */
export type FakeTamper = 'payload' | 'foreign-signer' | 'nonce';

/** The device routes the fake answers. */
export type FakeDeviceRoute = 'register' | 'authorize' | 'renew-id' | 'deregister';

/** What the fake's device service is wired with. */
export interface FakeDeviceDeps {
  ledger: FakeLedger;
  clock: Clock;
  toleranceMs: number;
  signer: FakeIssuer;
  foreign: FakeIssuer;
  smartAccount: { id: string; name: string; domain: string };
  virtualAccount: { id: string; name: string };
}

type Result = { payload: Record<string, unknown> } | { error: FakeAnswer };

const T = DEFAULT_TIMERS;

/** The authority side of the device protocol, as the fake plays it: checks, issues, signs. */
export class FakeDeviceService {
  constructor(private readonly deps: FakeDeviceDeps) {}

  /** Signs and issues with `signer` from now on (its predecessor's serial is no longer recognised). */
  replaceSigner(signer: FakeIssuer): void {
    this.deps.signer = signer;
  }

  /** Answers one device message (already parsed as an envelope), optionally spoiling the answer. */
  async answer(route: FakeDeviceRoute, env: Envelope, tamper?: FakeTamper): Promise<FakeAnswer> {
    const request = REQUEST_SCHEMAS[route].safeParse(env.payload);
    if (!request.success) return errorAnswer(400, 'BAD_REQUEST');
    const now = this.deps.clock.now();
    const timestamp = env.payload.timestamp as number;
    if (Math.abs(timestamp - now) > this.deps.toleranceMs) {
      const message = errorMessage('CLOCK_OFFSET', { deviceTime: timestamp });
      return {
        status: 400,
        body: { code: 'CLOCK_OFFSET', message, requestId: newNonce(), fields: { timestamp: [message] } },
      };
    }
    const result = route === 'register' ? await this.register(env, now) : await this.identified(route, env, now);
    if ('error' in result) return result.error;
    const nonce = env.payload.nonce as string;
    this.deps.ledger.seenNonces.add(nonce);
    return {
      status: 200,
      body: this.sign({ version: PROTOCOL_VERSION, timestamp: now, nonce, ...result.payload }, tamper),
    };
  }

  private sign(payload: Record<string, unknown>, tamper?: FakeTamper): Envelope {
    if (tamper === 'nonce') payload.nonce = newNonce();
    if (tamper === 'foreign-signer') {
      if ('signingCertificate' in payload) {
        payload.signingCertificate = this.deps.foreign.pem;
        payload.signingCertSerial = this.deps.foreign.serial;
      }
      return signEnvelope(payload, this.deps.foreign.pair.privateKey, this.deps.foreign.serial) as Envelope;
    }
    const envelope = signEnvelope(payload, this.deps.signer.pair.privateKey, this.deps.signer.serial) as Envelope;
    if (tamper === 'payload') envelope.payload = { ...payload, timestamp: (payload.timestamp as number) + 1 };
    return envelope;
  }

  private async register(env: Envelope, now: number): Promise<Result> {
    const p = env.payload as {
      idToken: string;
      udi: { pid: string; sn: string };
      hostname?: string;
      softwareTag: string;
      csr: string;
      force: boolean;
      nonce: string;
    };
    const csr = await checkCsr(p.csr);
    if (!csr) return { error: errorAnswer(400, 'BAD_CSR') };
    if (env.signature.certSerial !== 'csr' || !verifyEnvelope(env, csr.publicKey))
      return { error: errorAnswer(401, 'SIGNATURE_MISMATCH') };
    if (this.deps.ledger.seenNonces.has(p.nonce)) return { error: errorAnswer(409, 'REPLAYED_NONCE') };
    const tokenProblem = this.deps.ledger.tokenProblem(p.idToken, now);
    if (tokenProblem) return { error: errorAnswer(403, tokenProblem) };
    const existing = this.deps.ledger.byUdi(p.udi.pid, p.udi.sn);
    if (existing && !p.force) return { error: errorAnswer(409, 'ALREADY_REGISTERED') };
    if (existing) this.deps.ledger.instances.delete(existing.instanceId);
    const token = this.deps.ledger.tokens.get(p.idToken)!;
    token.uses += 1;
    const instanceId = this.deps.ledger.newInstanceId();
    const { smartAccount, virtualAccount } = this.deps;
    const cert = await issueIdCertificate(this.deps.signer, csr, {
      instanceId,
      pid: p.udi.pid,
      sn: p.udi.sn,
      domain: smartAccount.domain,
      now,
      validityMs: T.idCertValidityMs,
    });
    this.deps.ledger.instances.set(instanceId, {
      instanceId,
      pid: p.udi.pid,
      sn: p.udi.sn,
      ...(p.hostname ? { hostname: p.hostname } : {}),
      softwareTag: p.softwareTag,
      idCertSerial: cert.serial,
      idCertExpiresAt: cert.expiresAt,
      publicKey: csr.publicKey,
      usage: [],
      lastContact: now,
    });
    return {
      payload: {
        type: 'register-response',
        ...this.certificateFields(instanceId, cert),
        smartAccount,
        virtualAccount,
        exportControlled: token.exportControlled,
      },
    };
  }

  private certificateFields(
    instanceId: string,
    cert: { pem: string; serial: string; expiresAt: number },
  ): Record<string, unknown> {
    return {
      instanceId,
      idCertificate: cert.pem,
      idCertSerial: cert.serial,
      idCertExpiresAt: cert.expiresAt,
      renewIntervalMs: T.idCertRenewIntervalMs,
      signingCertificate: this.deps.signer.pem,
      signingCertSerial: this.deps.signer.serial,
    };
  }

  private async identified(
    route: 'authorize' | 'renew-id' | 'deregister',
    env: Envelope,
    now: number,
  ): Promise<Result> {
    const p = env.payload as { instanceId: string; idCertSerial: string; signingCertSerial: string; nonce: string };
    const instance = this.deps.ledger.instances.get(p.instanceId);
    if (!instance) return { error: errorAnswer(404, 'UNKNOWN_INSTANCE') };
    const serialsMatch =
      p.idCertSerial === instance.idCertSerial &&
      env.signature.certSerial === instance.idCertSerial &&
      p.signingCertSerial === this.deps.signer.serial;
    // As the real authority answers: serials it does not recognise (its signing certificate was
    // replaced, the ID certificate superseded) → MISSING_SERIALS; a bad signature → SIGNATURE_MISMATCH.
    if (!serialsMatch) return { error: errorAnswer(401, 'MISSING_SERIALS') };
    if (!verifyEnvelope(env, instance.publicKey)) return { error: errorAnswer(401, 'SIGNATURE_MISMATCH') };
    if (now > instance.idCertExpiresAt) return { error: errorAnswer(401, 'CERTIFICATE_EXPIRED') };
    if (this.deps.ledger.seenNonces.has(p.nonce)) return { error: errorAnswer(409, 'REPLAYED_NONCE') };
    instance.lastContact = now;
    if (route === 'deregister') {
      this.deps.ledger.instances.delete(instance.instanceId);
      return { payload: { type: 'deregister-response', instanceId: instance.instanceId } };
    }
    if (route === 'renew-id') {
      const csr = await checkCsr((env.payload as { csr: string }).csr);
      if (!csr) return { error: errorAnswer(400, 'BAD_CSR') };
      const cert = await issueIdCertificate(this.deps.signer, csr, {
        instanceId: instance.instanceId,
        pid: instance.pid,
        sn: instance.sn,
        domain: this.deps.smartAccount.domain,
        now,
        validityMs: T.idCertValidityMs,
      });
      Object.assign(instance, { idCertSerial: cert.serial, idCertExpiresAt: cert.expiresAt, publicKey: csr.publicKey });
      return { payload: { type: 'renew-id-response', ...this.certificateFields(instance.instanceId, cert) } };
    }
    instance.usage = (env.payload as { entitlements: FakeInstance['usage'] }).entitlements;
    const entitlements = this.deps.ledger.compliance(instance.usage);
    const inCompliance = entitlements.every((e) => e.status === 'InCompliance');
    return {
      payload: {
        type: 'authorize-response',
        instanceId: instance.instanceId,
        status: inCompliance ? 'InCompliance' : 'OutOfCompliance',
        entitlements,
        authorizedAt: now,
        expiresAt: now + T.authorizationValidityMs,
        renewIntervalMs: T.authorizationRenewIntervalMs,
        retryIntervalMs: inCompliance ? T.authRetryAuthorizedMs : T.authRetryOutOfComplianceSlowMs,
      },
    };
  }
}

/** An error answer with the code's standard message. */
export function errorAnswer(status: number, code: ErrorCode): FakeAnswer {
  return { status, body: { code, message: errorMessage(code), requestId: newNonce() } };
}
