import { type KeyObject, X509Certificate } from 'node:crypto';
import {
  type Clock,
  createCsr,
  DEVICE_ROUTES,
  type EntitlementUsage,
  type Envelope,
  type ErrorBody,
  generateKeyPair,
  type KeyPair,
  newNonce,
  normalizeSerial,
  RESPONSE_SCHEMAS,
  type SignatureAlgorithm,
  signEnvelope,
  type Udi,
  verifyEnvelope,
  verifySignerChain,
} from '@smartlic/protocol';
import { expect } from 'vitest';
import { type JsonAnswer, sendJson } from './http.js';

type ResponseType = keyof typeof RESPONSE_SCHEMAS;
type Payload = Record<string, unknown>;

/** What a device knows about the server it talks to. */
export interface DeviceContext {
  url: string;
  clock: Clock;
  rootCaPem: string;
}

/**
 * A simulated product instance built only from protocol helpers: it signs its messages as
 * a real agent would and checks every successful answer (signature, signer chain to the
 * pinned root, schema, echoed nonce).
 */
export class SimDevice {
  keys: KeyPair;
  instanceId?: string;
  idCertSerial?: string;
  idCertPem?: string;
  signingCertSerial?: string;
  signingCertPem?: string;
  private signingPublicKey?: KeyObject;

  constructor(
    readonly ctx: DeviceContext,
    readonly udi: Udi,
    readonly alg: SignatureAlgorithm = 'ES256',
  ) {
    this.keys = generateKeyPair(alg);
  }

  /** The same device, holding the same certificates, talking to another server (a restarted one, say). */
  on(ctx: DeviceContext): SimDevice {
    const copy = new SimDevice(ctx, this.udi, this.alg);
    copy.keys = this.keys;
    copy.instanceId = this.instanceId;
    copy.idCertSerial = this.idCertSerial;
    copy.idCertPem = this.idCertPem;
    copy.signingCertSerial = this.signingCertSerial;
    copy.signingCertPem = this.signingCertPem;
    copy.signingPublicKey = this.signingPublicKey;
    return copy;
  }

  fresh(overrides: Payload = {}): Payload {
    return { version: 1, timestamp: this.ctx.clock.now(), nonce: newNonce(), ...overrides };
  }

  async registerEnvelope(
    token: string,
    options: { force?: boolean; hostname?: string } = {},
  ): Promise<Envelope<Payload>> {
    const csr = await createCsr(this.keys, `CN=${this.udi.pid}`);
    const payload: Payload = {
      type: 'register',
      ...this.fresh(),
      idToken: token,
      softwareTag: 'regid.2026-01.com.example.product',
      udi: this.udi,
      csr,
      force: options.force ?? false,
      ...(options.hostname ? { hostname: options.hostname } : {}),
    };
    return signEnvelope(payload, this.keys.privateKey, 'csr');
  }

  async register(token: string, options: { force?: boolean; hostname?: string } = {}): Promise<JsonAnswer> {
    const envelope = await this.registerEnvelope(token, options);
    const answer = await this.send(DEVICE_ROUTES.register, envelope);
    if (answer.status === 200) {
      const payload = this.verify(answer, 'register', envelope);
      this.instanceId = payload.instanceId as string;
      this.idCertPem = payload.idCertificate as string;
      this.idCertSerial = payload.idCertSerial as string;
      this.checkIdCertificate();
    }
    return answer;
  }

  identified(type: string, extra: Payload = {}): Payload {
    return {
      type,
      ...this.fresh(),
      instanceId: this.instanceId,
      idCertSerial: this.idCertSerial,
      signingCertSerial: this.signingCertSerial,
      ...extra,
    };
  }

  sign(payload: Payload, key: KeyObject = this.keys.privateKey): Envelope<Payload> {
    return signEnvelope(payload, key, this.idCertSerial ?? 'csr');
  }

  authorizeEnvelope(entitlements: EntitlementUsage[]): Envelope<Payload> {
    return this.sign(this.identified('authorize', { entitlements }));
  }

  async authorize(entitlements: EntitlementUsage[]): Promise<JsonAnswer> {
    return this.sendVerified(DEVICE_ROUTES.authorize, 'authorize', this.authorizeEnvelope(entitlements));
  }

  /** Renews the ID certificate, with a new key unless `sameKey`. */
  async renewId(options: { sameKey?: boolean } = {}): Promise<JsonAnswer> {
    const nextKeys = options.sameKey ? this.keys : generateKeyPair(this.alg);
    const csr = await createCsr(nextKeys, `CN=${this.udi.pid}`);
    const envelope = this.sign(this.identified('renew-id', { csr }));
    const answer = await this.sendVerified(DEVICE_ROUTES.renewId, 'renew-id', envelope);
    if (answer.status === 200) {
      const payload = (answer.body as Envelope<Payload>).payload;
      this.keys = nextKeys;
      this.idCertPem = payload.idCertificate as string;
      this.idCertSerial = payload.idCertSerial as string;
      this.checkIdCertificate();
    }
    return answer;
  }

  async deregister(): Promise<JsonAnswer> {
    return this.sendVerified(DEVICE_ROUTES.deregister, 'deregister', this.sign(this.identified('deregister')));
  }

  async send(route: string, envelope: unknown): Promise<JsonAnswer> {
    return sendJson(`${this.ctx.url}${route}`, { method: 'POST', body: envelope });
  }

  async sendVerified(route: string, type: ResponseType, envelope: Envelope<Payload>): Promise<JsonAnswer> {
    const answer = await this.send(route, envelope);
    if (answer.status === 200) this.verify(answer, type, envelope);
    return answer;
  }

  /** Checks a successful answer as an agent must, and returns its payload. */
  verify(answer: JsonAnswer, type: ResponseType, request: Envelope<Payload>): Payload {
    const envelope = answer.body as Envelope<Payload>;
    const parsed = RESPONSE_SCHEMAS[type].safeParse(envelope.payload);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
    if (type === 'register' || type === 'renew-id') {
      const signingPem = envelope.payload.signingCertificate as string;
      const info = verifySignerChain(signingPem, [this.ctx.rootCaPem], this.ctx.clock.now(), envelope.chain ?? []);
      expect(info.serial).toBe(envelope.payload.signingCertSerial);
      this.signingCertPem = signingPem;
      this.signingCertSerial = info.serial;
      this.signingPublicKey = info.publicKey;
    }
    if (type !== 'register' && type !== 'renew-id' && envelope.signer) {
      // A renewed signing certificate of the same key: verified, then kept, as the agent does.
      const info = verifySignerChain(envelope.signer, [this.ctx.rootCaPem], this.ctx.clock.now(), envelope.chain ?? []);
      expect(info.publicKey.export({ type: 'spki', format: 'der' })).toEqual(
        this.signingPublicKey!.export({ type: 'spki', format: 'der' }),
      );
      this.signingCertPem = envelope.signer;
      this.signingCertSerial = info.serial;
    }
    expect(envelope.signature.certSerial).toBe(this.signingCertSerial);
    expect(verifyEnvelope(envelope, this.signingPublicKey!)).toBe(true);
    expect(envelope.payload.nonce).toBe(request.payload.nonce);
    return envelope.payload;
  }

  private checkIdCertificate(): void {
    const cert = new X509Certificate(this.idCertPem!);
    const signing = new X509Certificate(this.signingCertPem!);
    expect(cert.checkIssued(signing)).toBe(true);
    expect(cert.verify(signing.publicKey)).toBe(true);
    expect(normalizeSerial(cert.serialNumber)).toBe(this.idCertSerial);
    expect(cert.publicKey.export({ type: 'spki', format: 'der' })).toEqual(
      this.keys.publicKey.export({ type: 'spki', format: 'der' }),
    );
  }
}

/** The error body of a refused request. */
export function errorOf(answer: JsonAnswer): ErrorBody {
  return answer.body as ErrorBody;
}
