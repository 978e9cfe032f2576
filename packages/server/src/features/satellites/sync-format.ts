import { createHash, createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import {
  canonicalize,
  LicenseClassSchema,
  POLICY_DAYS_MAX,
  SmartlicError,
  verifySignerChain,
} from '@smartlic/protocol';
import { z } from 'zod';
import { signBytesAsync, verifyBytesAsync } from '../../crypto/async-signatures.js';
import { type InstanceTable, readInstanceTable, SNAPSHOT_LIMITS } from './instance-table.js';

/** The format name of registration documents and responses (ADR 0012), and of older sync requests. */
export const SYNC_FORMAT = 'smartlic-sync/1';
/**
 * The format name of sync requests: as {@link SYNC_FORMAT}, but the instances go up as one
 * table ({@link InstanceTable}) instead of an object per instance. An upstream reads both.
 */
export const SYNC_REQUEST_FORMAT = 'smartlic-sync/2';
/** The format names a sync document may carry. */
export type SyncFormat = typeof SYNC_FORMAT | typeof SYNC_REQUEST_FORMAT;

/** The four documents of the sync protocol. */
export type SyncKind = 'registration-request' | 'registration-response' | 'sync-request' | 'sync-response';

const Text = z.string().max(100_000);
const Id = z.string().min(1).max(SNAPSHOT_LIMITS.id);
const Short = z.string().max(SNAPSHOT_LIMITS.short);
const Name = z.string().max(SNAPSHOT_LIMITS.name);

/**
 * One product instance as a satellite sends it up (its whole state). Members in code-unit order,
 * as parsing yields them: a request of 100,000 instances then serialises canonically at the speed
 * of JSON.stringify (see canonicalBytes).
 */
export const InstanceSnapshot = z.object({
  complianceStatus: z.string().max(SNAPSHOT_LIMITS.status).nullable(),
  exportControlled: z.boolean(),
  hostname: Name.nullable(),
  id: Id,
  idCertExpiresAt: z.number(),
  idCertSerial: Short,
  lastContactAt: z.number(),
  pid: Short,
  publicKeySpki: z.string().max(SNAPSHOT_LIMITS.key),
  registeredAt: z.number(),
  sn: Short,
  softwareTag: Name,
  usage: z.array(z.object({ count: z.number().int(), displayName: Name.nullable(), tag: Name })),
  vaId: Id,
});
export type InstanceSnapshot = z.infer<typeof InstanceSnapshot>;

/** One event of the satellite's log as it goes up. */
export const EventSnapshot = z.object({
  id: Id,
  at: z.number(),
  actor: z.string().max(500),
  type: z.string().max(100),
  vaId: Id.nullable(),
  detail: z.record(z.string(), z.unknown()),
});
export type EventSnapshot = z.infer<typeof EventSnapshot>;

/** What goes down in every response: whole, so that each sync repairs any drift of it. */
export const DownData = z.object({
  account: z.object({ id: Id, name: Text, domain: Text, createdAt: z.number() }),
  vas: z.array(z.object({ id: Id, name: Text, createdAt: z.number() })),
  pools: z.array(
    z.object({
      id: Id,
      vaId: Id,
      tag: Text,
      displayName: Text.nullable(),
      quantity: z.number(),
      type: z.enum(['perpetual', 'term', 'subscription']),
      startsAt: z.number(),
      endsAt: z.number().nullable(),
      createdAt: z.number(),
    }),
  ),
  tags: z.array(
    z.object({
      tag: Text,
      displayName: Text.nullable(),
      parentTag: Text.nullable(),
      createdAt: z.number(),
      updatedAt: z.number(),
    }),
  ),
  conversionSettings: z.array(
    z.object({
      vaId: Id,
      mode: z.enum(['off', 'on', 'review']),
      maxPerReport: z.number(),
      autoMaxPerLicense: z.number(),
      autoMaxPerDevice: z.number(),
      updatedAt: z.number(),
    }),
  ),
  /**
   * The served VAs' custom policies (Smart Licensing Using Policy, ADR 0018). Absent from an
   * upstream older than them: the satellite then keeps the copy it has.
   */
  policies: z
    .array(
      z.object({
        vaId: Id,
        licenseClass: LicenseClassSchema,
        firstReportDays: z.number().int().min(0).max(POLICY_DAYS_MAX),
        reportingFrequencyDays: z.number().int().min(0).max(POLICY_DAYS_MAX),
        onChangeDays: z.number().int().min(0).max(POLICY_DAYS_MAX),
        updatedAt: z.number(),
      }),
    )
    .optional(),
});
export type DownData = z.infer<typeof DownData>;

/** A signing certificate for the satellite (at registration, and renewals). */
export const IssuedCertificate = z.object({
  certificatePem: Text,
  chainPems: z.array(Text),
  notAfter: z.number(),
});
export type IssuedCertificate = z.infer<typeof IssuedCertificate>;

export const RegistrationRequest = z.object({
  token: z.string().min(1).max(200),
  publicKeyPem: Text,
  createdAt: z.number(),
  version: z.string().max(100),
  schedule: z.number().int().positive().nullable(),
});
export type RegistrationRequest = z.infer<typeof RegistrationRequest>;

export const RegistrationResponse = z.object({
  requestDigest: z.string().length(64),
  satelliteId: Id,
  name: z.string().max(200),
  upstreamName: z.string().max(200),
  createdAt: z.number(),
  rootCaPem: Text,
  certificate: IssuedCertificate,
  syncDueAt: z.number(),
  down: DownData,
});
export type RegistrationResponse = z.infer<typeof RegistrationResponse>;

/** A sync request's members but its instances. */
const SyncRequestHead = z.object({
  satelliteId: Id,
  name: z.string().max(200),
  sequence: z.number().int().positive(),
  full: z.boolean(),
  createdAt: z.number(),
  /** Days between scheduled syncs; null: off. */
  schedule: z.number().int().positive().nullable(),
  version: z.string().max(100),
  /** Sequence of the last response the satellite applied. */
  ack: z.number().int().nonnegative(),
  removed: z.array(Id),
  events: z.array(EventSnapshot),
});

/** A sync request as `smartlic-sync/1` wrote it: an object per instance. */
export const SyncRequestV1 = SyncRequestHead.extend({ instances: z.array(InstanceSnapshot) });
export type SyncRequestV1 = z.infer<typeof SyncRequestV1>;

/** A sync request as it is written now (`smartlic-sync/2`): the instances as one table. */
export type SyncRequest = z.infer<typeof SyncRequestHead> & { instances: InstanceTable };
/** A sync request as it may arrive: either format (the document's `format` says which). */
export type SyncRequestWire = SyncRequestV1 | SyncRequest;

export const SyncResponse = z.object({
  requestDigest: z.string().length(64),
  satelliteId: Id,
  sequence: z.number().int().positive(),
  createdAt: z.number(),
  applied: z.object({ instances: z.number(), removed: z.number(), events: z.number() }),
  certificate: IssuedCertificate.nullable(),
  syncDueAt: z.number(),
  down: DownData,
});
export type SyncResponse = z.infer<typeof SyncResponse>;

const PAYLOADS = {
  'registration-request': RegistrationRequest,
  'registration-response': RegistrationResponse,
  'sync-request': SyncRequestV1,
  'sync-response': SyncResponse,
} as const;

/** The payload type of each kind. */
export interface SyncPayloads {
  'registration-request': RegistrationRequest;
  'registration-response': RegistrationResponse;
  'sync-request': SyncRequestWire;
  'sync-response': SyncResponse;
}

/** The format a document of `kind` is written in now. */
export function formatOf(kind: SyncKind): SyncFormat {
  return kind === 'sync-request' ? SYNC_REQUEST_FORMAT : SYNC_FORMAT;
}

const SyncDocumentShape = z.object({
  format: z.enum([SYNC_FORMAT, SYNC_REQUEST_FORMAT]),
  kind: z.enum(['registration-request', 'registration-response', 'sync-request', 'sync-response']),
  payload: z.record(z.string(), z.unknown()),
  signature: z.object({ alg: z.literal('ES256'), value: z.string().max(200) }),
  /** Responses: the signer's certificate, then the intermediates up to (not including) the root. */
  certificates: z.array(Text).max(10).optional(),
});

/** A signed sync document as written to a file or sent over HTTP. */
export interface SyncDocument<K extends SyncKind = SyncKind> {
  format: SyncFormat;
  kind: K;
  payload: SyncPayloads[K];
  signature: { alg: 'ES256'; value: string };
  certificates?: string[];
}

/** The text a document's signature covers: format, kind and payload, canonical. */
function signedText(format: SyncFormat, kind: SyncKind, payload: unknown): string {
  return canonicalize({ format, kind, payload });
}

/** SHA-256 (hex) of a document's signed bytes: what binds a response to its request. */
export function documentDigest(doc: SyncDocument): string {
  return createHash('sha256')
    .update(signedText(doc.format, doc.kind, doc.payload), 'utf8')
    .digest('hex');
}

/** Signs `payload` as a document of `kind`; responses carry the signer's certificate chain. */
export async function signDocument<K extends SyncKind>(
  kind: K,
  payload: SyncPayloads[K],
  key: KeyObject,
  certificates?: string[],
): Promise<SyncDocument<K>> {
  return (await signDocumentWithDigest(kind, payload, key, certificates)).doc;
}

/** A signed document, its digest (see {@link documentDigest}) and its JSON text. */
export interface SignedDocument<K extends SyncKind> {
  doc: SyncDocument<K>;
  digest: string;
  /** `doc` as JSON (what `JSON.stringify(doc)` would give, members in another order). */
  text: string;
}

/**
 * {@link signDocument}, also returning the document's digest and its JSON text, both from the
 * same signed text: a large request is serialised once. `format` is for tests of older formats.
 */
export async function signDocumentWithDigest<K extends SyncKind>(
  kind: K,
  payload: SyncPayloads[K],
  key: KeyObject,
  certificates?: string[],
  format: SyncFormat = formatOf(kind),
): Promise<SignedDocument<K>> {
  const signed = signedText(format, kind, payload);
  const bytes = Buffer.from(signed, 'utf8');
  const value = (await signBytesAsync(bytes, key)).toString('base64url');
  const doc: SyncDocument<K> = {
    format,
    kind,
    payload,
    signature: { alg: 'ES256', value },
    ...(certificates ? { certificates } : {}),
  };
  // The signed text is the document's first three members; the rest are appended to it.
  const tail = `,"signature":${JSON.stringify(doc.signature)}${certificates ? `,"certificates":${JSON.stringify(certificates)}` : ''}}`;
  return {
    doc,
    digest: createHash('sha256').update(bytes).digest('hex'),
    text: `${signed.slice(0, -1)}${tail}`,
  };
}

/** A refusal of a sync document: one sentence, nothing changed. */
export function syncRefused(message: string): SmartlicError {
  return new SmartlicError('SYNC_REFUSED', { message });
}

/** Parses a document's text (JSON, which is also YAML 1.2) of the expected kind; refuses anything else. */
export function parseDocument<K extends SyncKind>(text: string, kind: K): SyncDocument<K> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw syncRefused('This is not a smartlic synchronisation file: it is not valid JSON.');
  }
  return checkDocument(value, kind);
}

/** How deep a sync document may nest (its deepest member, an event's detail, is far less). */
const MAX_DEPTH = 32;

/** Whether `value` nests deeper than `limit`, found without recursion (a hostile body may nest thousands deep). */
function nestsDeeperThan(value: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [item, depth] = stack.pop() as [unknown, number];
    if (depth >= limit) return true;
    for (const child of Array.isArray(item) ? item : Object.values(item as object)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return false;
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Checks a parsed document's shape and kind (not its signature). */
export function checkDocument<K extends SyncKind>(value: unknown, kind: K): SyncDocument<K> {
  return checkWithInstances(value, kind).doc;
}

/**
 * Checks a sync request (either format) as {@link checkDocument} does, and returns its
 * instances as snapshots (the document keeps its payload as it came, for the signature).
 */
export function checkSyncRequest(value: unknown): { doc: SyncDocument<'sync-request'>; instances: InstanceSnapshot[] } {
  const checked = checkWithInstances(value, 'sync-request');
  return { doc: checked.doc, instances: checked.instances ?? [] };
}

function checkWithInstances<K extends SyncKind>(
  value: unknown,
  kind: K,
): { doc: SyncDocument<K>; instances: InstanceSnapshot[] | undefined } {
  if (!isObject(value) || !isObject(value.payload)) {
    throw syncRefused('This is not a smartlic synchronisation file: its structure is not valid.');
  }
  // A table of instances is checked cell by cell (it is flat); the rest by its schema.
  const table = value.format === SYNC_REQUEST_FORMAT && kind === 'sync-request' ? value.payload.instances : undefined;
  const { instances: _table, ...head } = value.payload;
  const rest = table === undefined ? value.payload : head;
  if (nestsDeeperThan({ ...value, payload: rest }, MAX_DEPTH)) {
    throw syncRefused('This is not a smartlic synchronisation file: it nests too deep.');
  }
  const shape = SyncDocumentShape.safeParse({ ...value, payload: rest });
  if (!shape.success) throw syncRefused('This is not a smartlic synchronisation file: its structure is not valid.');
  if (shape.data.kind !== kind) {
    throw syncRefused(`This file is a ${shape.data.kind}, not a ${kind}.`);
  }
  if (shape.data.format === SYNC_REQUEST_FORMAT && kind !== 'sync-request') {
    throw syncRefused('This is not a smartlic synchronisation file: its structure is not valid.');
  }
  const malformed = () => syncRefused(`This ${kind} is malformed: its content is not valid.`);
  if (table !== undefined) {
    const payload = SyncRequestHead.safeParse(rest);
    if (!payload.success) throw malformed();
    const instances = readInstanceTable(table);
    if (instances === undefined) throw malformed();
    return {
      doc: { ...shape.data, kind, payload: { ...payload.data, instances: table } as SyncPayloads[K] },
      instances,
    };
  }
  const payload = PAYLOADS[kind].safeParse(rest);
  if (!payload.success) throw malformed();
  const instances = kind === 'sync-request' ? (payload.data as SyncRequestV1).instances : undefined;
  return { doc: { ...shape.data, kind, payload: payload.data as SyncPayloads[K] }, instances };
}

/**
 * Verifies a document's signature with `publicKey`; refuses an altered one. Returns its digest
 * (see {@link documentDigest}), from the same signed bytes: a large document is serialised once.
 */
export async function verifyDocument(doc: SyncDocument, publicKey: KeyObject | string): Promise<string> {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  const bytes = Buffer.from(signedText(doc.format, doc.kind, doc.payload), 'utf8');
  let ok = false;
  try {
    ok = await verifyBytesAsync(bytes, Buffer.from(doc.signature.value, 'base64url'), key, 'ES256');
  } catch {
    ok = false;
  }
  if (!ok) throw syncRefused(`This ${doc.kind} was altered or not signed by its sender: its signature does not match.`);
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Verifies a response: its certificates chain to `rootCaPem` (each issued by the next, the last
 * by the root, all valid at `now`) and the first signed it. Returns the signer's subject.
 */
export async function verifyResponse(doc: SyncDocument, rootCaPem: string, now: number): Promise<string> {
  const certs = doc.certificates ?? [];
  if (certs.length === 0) throw syncRefused(`This ${doc.kind} carries no signing certificate.`);
  try {
    for (let i = certs.length - 1; i >= 0; i--) {
      verifySignerChain(certs[i] as string, i === certs.length - 1 ? [rootCaPem] : [certs[i + 1] as string], now);
    }
  } catch {
    throw syncRefused(`This ${doc.kind} is not signed by a certificate of this satellite's authority.`);
  }
  const signer = new X509Certificate(certs[0] as string);
  await verifyDocument(doc, signer.publicKey);
  return signer.subject;
}

/** The file name of a request: `license-sync-request-<satellite>_<YYYYMMDD>-<n>.yml`. */
export function requestFileName(satellite: string, at: number, sequence: number): string {
  const day = new Date(at).toISOString().slice(0, 10).replace(/-/g, '');
  return `license-sync-request-${satellite.replace(/[^A-Za-z0-9._-]/g, '-')}_${day}-${sequence}.yml`;
}

/** How many instances a sync request carries, in either format. */
export function instanceCount(payload: SyncRequestWire): number {
  return Array.isArray(payload.instances) ? payload.instances.length : payload.instances.rows.length;
}
