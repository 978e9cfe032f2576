import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  type Clock,
  DEFAULT_TIMERS,
  Envelope,
  errorMessage,
  isErrorCode,
  newNonce,
  systemClock,
} from '@smartlic/protocol';
import {
  errorAnswer,
  type FakeAnswer,
  type FakeDeviceRoute,
  FakeDeviceService,
  type FakeTamper,
} from './fake-device-service.js';
import { type FakeInstance, FakeLedger, type FakeToken } from './fake-ledger.js';
import { createRootCa, createSigningCa, type FakeIssuer, issueTlsCertificate } from './fake-pki.js';

/** The routes of the fake authority. */
export type FakeRoute = FakeDeviceRoute | 'root-ca';

/** A one-shot answer replacing the fake's normal behaviour for the next request on a route. */
export type FakeOverride =
  /** Answer with this HTTP error (`message` defaults to the code's standard wording). */
  | { error: { status: number; code: string; message?: string; fields?: Record<string, string[]> } }
  /** Process normally, then spoil the answer: alter the payload after signing, sign with a foreign CA, or echo another nonce. */
  | { tamper: FakeTamper }
  /** Drop the connection without answering. */
  | { drop: true }
  /** Never answer (the request stays open until the client gives up or the fake closes). */
  | { hang: true }
  /** Answer exactly this. */
  | { raw: { status: number; body: string; contentType?: string } };

/** Options of the fake authority. */
export interface FakeAuthorityOptions {
  /** The authority's clock (share a ManualClock with the agent). Default: the system clock. */
  clock?: Clock;
  /** Serve HTTPS with a certificate for 127.0.0.1 issued by the fake's root. */
  https?: boolean;
  /** Tolerated device clock offset. Default: one hour. */
  toleranceMs?: number;
  /** Default: Example Corp, example.com. */
  smartAccount?: { id: string; name: string; domain: string };
  /** Default: Default. */
  virtualAccount?: { id: string; name: string };
}

const ROUTES: Record<string, FakeRoute> = {
  '/api/v1/device/register': 'register',
  '/api/v1/device/authorize': 'authorize',
  '/api/v1/device/renew-id': 'renew-id',
  '/api/v1/device/deregister': 'deregister',
  '/api/v1/pki/root-ca': 'root-ca',
};

/**
 * A small licensing authority for tests of the agent and the CLI: real HTTP(S) on 127.0.0.1,
 * its own root CA and signing certificate, correctly signed responses, tokens, license pools and
 * compliance, and switches to make it fail (`override`, `reachable`).
 */
export class FakeAuthority {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  /** Every device message received, in order. */
  readonly requests: { route: FakeRoute; payload: Record<string, unknown> }[] = [];
  /** When false, every connection is dropped at once (the authority is "down"). */
  reachable = true;
  private readonly overrides = new Map<FakeRoute, FakeOverride[]>();

  private constructor(
    private readonly server: http.Server,
    private readonly clock: Clock,
    private readonly service: FakeDeviceService,
    /** Tokens, pools and instances. */
    readonly ledger: FakeLedger,
    /** The root CA devices trust. */
    readonly root: FakeIssuer,
    private currentSigner: FakeIssuer,
  ) {
    const { port } = server.address() as AddressInfo;
    this.url = `${server instanceof https.Server ? 'https' : 'http'}://127.0.0.1:${port}`;
  }

  /** Starts a fake authority on 127.0.0.1 on a free port. */
  static async start(options: FakeAuthorityOptions = {}): Promise<FakeAuthority> {
    const clock = options.clock ?? systemClock;
    const now = clock.now();
    const root = await createRootCa('CN=smartlic fake root CA, O=smartlic', now);
    const signer = await createSigningCa(root, 'CN=smartlic fake signing CA, O=smartlic', now);
    const foreign = await createSigningCa(await createRootCa('CN=foreign root CA', now), signer.cert.subject, now);
    const ledger = new FakeLedger();
    const service = new FakeDeviceService({
      ledger,
      clock,
      toleranceMs: options.toleranceMs ?? DEFAULT_TIMERS.clockToleranceMs,
      signer,
      foreign,
      smartAccount: options.smartAccount ?? { id: 'sa-1', name: 'Example Corp', domain: 'example.com' },
      virtualAccount: options.virtualAccount ?? { id: 'va-1', name: 'Default' },
    });
    let fake: FakeAuthority | undefined;
    const handler = (req: http.IncomingMessage, res: http.ServerResponse): void => {
      void fake?.handle(req, res);
    };
    const server = options.https ? https.createServer(await tlsOptions(root), handler) : http.createServer(handler);
    server.on('connection', (socket) => {
      if (fake && !fake.reachable) socket.destroy();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake = new FakeAuthority(server, clock, service, ledger, root, signer);
    return fake;
  }

  /** The signing (sub-CA) certificate of the authority. */
  get signer(): FakeIssuer {
    return this.currentSigner;
  }

  /**
   * Replaces the signing certificate with a new one under the same root (as when a satellite's
   * expired signing certificate is renewed, seed 003 scenario 6). Registered devices still name
   * the old serial, so their identified messages are answered `MISSING_SERIALS` until they
   * register again.
   */
  async replaceSigningCertificate(): Promise<void> {
    this.currentSigner = await createSigningCa(this.root, this.currentSigner.cert.subject, this.clock.now());
    this.service.replaceSigner(this.currentSigner);
  }

  /** PEM of the root CA devices should trust. */
  get rootCaPem(): string {
    return this.root.pem;
  }

  /** SHA-256 fingerprint of the root CA (`AB:CD:…`). */
  get rootFingerprint(): string {
    return this.root.fingerprint;
  }

  /** Creates an ID token and returns its value. */
  createToken(options: Partial<Omit<FakeToken, 'token' | 'uses'>> = {}): string {
    return this.ledger.createToken(this.clock.now(), options).token;
  }

  /** Sets the pool of `tag` to `quantity` licenses. */
  setLicenses(tag: string, quantity: number, displayName?: string): void {
    this.ledger.pools.set(tag, { quantity, ...(displayName ? { displayName } : {}) });
  }

  /** Queues one-shot answers for the next requests on `route`. */
  override(route: FakeRoute, ...overrides: FakeOverride[]): void {
    this.overrides.set(route, [...(this.overrides.get(route) ?? []), ...overrides]);
  }

  /** The registered instances. */
  instances(): FakeInstance[] {
    return [...this.ledger.instances.values()];
  }

  /** How many device messages arrived on `route`. */
  count(route: FakeRoute): number {
    return this.requests.filter((r) => r.route === route).length;
  }

  /** Stops the server. */
  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const route = routeOf(new URL(req.url ?? '/', 'http://x').pathname);
      if (!route) return send(res, errorAnswer(404, 'NOT_FOUND'));
      const envelope = route === 'root-ca' ? undefined : parseEnvelope(await readBody(req));
      if (envelope?.ok) this.requests.push({ route, payload: envelope.env.payload });
      const override = this.overrides.get(route)?.shift();
      if (override && !('tamper' in override)) return answerOverride(req, res, override);
      if (route === 'root-ca') {
        res.writeHead(200, { 'content-type': 'application/x-pem-file' });
        return void res.end(this.root.pem);
      }
      if (!envelope?.ok) return send(res, envelope?.error ?? errorAnswer(400, 'BAD_REQUEST'));
      send(res, await this.service.answer(route, envelope.env, override?.tamper));
    } catch {
      send(res, errorAnswer(500, 'INTERNAL'));
    }
  }
}

/** The route of a path, also below a prefix (a satellite URL such as `https://sat/SmartTransport`). */
function routeOf(pathname: string): FakeRoute | undefined {
  const prefix = /^\/SmartTransport(?=\/)/i.exec(pathname)?.[0] ?? '';
  return ROUTES[pathname.slice(prefix.length)];
}

function defaultMessage(code: string): string {
  return isErrorCode(code) ? errorMessage(code) : code;
}

/** Answers as a non-tamper override says: drop, hang, a raw body or an error. */
function answerOverride(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  override: Exclude<FakeOverride, { tamper: FakeTamper }>,
): void {
  if ('drop' in override) req.socket.destroy();
  else if ('hang' in override) return;
  else if ('raw' in override) {
    res.writeHead(override.raw.status, { 'content-type': override.raw.contentType ?? 'application/json' });
    res.end(override.raw.body);
  } else {
    const { status, code, message, fields } = override.error;
    const body = {
      code,
      message: message ?? defaultMessage(code),
      requestId: newNonce(),
      ...(fields ? { fields } : {}),
    };
    send(res, { status, body });
  }
}

/** A request body as an envelope, or the error answer it deserves. */
function parseEnvelope(body: string): { ok: true; env: Envelope } | { ok: false; error: FakeAnswer } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { ok: false, error: errorAnswer(400, 'MALFORMED_JSON') };
  }
  const envelope = Envelope.safeParse(parsed);
  return envelope.success
    ? { ok: true, env: envelope.data as Envelope }
    : { ok: false, error: errorAnswer(400, 'BAD_REQUEST') };
}

function send(res: http.ServerResponse, answer: FakeAnswer): void {
  const body = JSON.stringify(answer.body);
  res.writeHead(answer.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 1024 * 1024) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

async function tlsOptions(root: FakeIssuer): Promise<https.ServerOptions> {
  const { certPem, keyPem } = await issueTlsCertificate(root);
  return { cert: certPem, key: keyPem };
}
