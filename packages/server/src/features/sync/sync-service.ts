import { createPublicKey, X509Certificate } from 'node:crypto';
import { type Clock, DAY, SmartlicError } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import type { Database, SyncStateRow } from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';
import { SERVER_VERSION } from '../../version.js';
import { recordEvent } from '../events/event-recorder.js';
import { applyDownData, type DownCounts } from '../satellites/down-data.js';
import { satelliteHealth } from '../satellites/satellite-health.js';
import type { SyncPki } from '../satellites/satellite-pki-port.js';
import {
  checkDocument,
  documentDigest,
  instanceCount,
  requestFileName,
  type SyncDocument,
  signDocument,
  signDocumentWithDigest,
  syncRefused,
  verifyResponse,
} from '../satellites/sync-format.js';
import type { TagTreeCache } from '../tags/tag-tree.js';
import { readJournal } from './sync-journal.js';
import type { UpstreamSend } from './upstream-client.js';

const SELF = 'self';
/** How often (real time) the job looks whether a scheduled sync is due. */
export const SYNC_JOB_INTERVAL_MS = 10 * 60 * 1000;
/** Default days between scheduled syncs (SPEC §8). */
export const DEFAULT_SCHEDULE_DAYS = 30;

export interface SyncServiceDeps {
  db: Kysely<Database>;
  transactor: Transactor;
  clock: Clock;
  pki: SyncPki;
  send: UpstreamSend;
  tags: Pick<TagTreeCache, 'invalidate'>;
  /** `--upstream` of `smartlic server`, used when registration names none. */
  defaultUpstream?: string | undefined;
}

/** What one request carried up (counts). */
export interface UpSummary {
  instances: number;
  removed: number;
  events: number;
}

export interface SyncNowResult {
  sequence: number;
  full: boolean;
  up: UpSummary;
  down: DownCounts & { certificateRenewed: boolean };
}

export interface ExportResult {
  file: string;
  sequence: number;
  kind: 'registration-request' | 'sync-request';
  /** The request document's JSON text (a full sync's is tens of MB: it is written once). */
  documentText: string;
}

export interface ImportResult {
  kind: 'registration-response' | 'sync-response';
  sequence: number;
  applied: boolean;
  down: DownCounts & { certificateRenewed: boolean };
}

export interface SyncStatus {
  name: string | null;
  satelliteId: string | null;
  upstream: string | null;
  registered: boolean;
  vas: Array<{ id: string; name: string }>;
  health: string;
  lastSyncUp: string | null;
  lastSyncDown: string | null;
  syncDue: string | null;
  nextScheduledSync: string | null;
  scheduleDays: number | null;
  certificateExpiresAt: string | null;
  pendingRequest: number | null;
  lastError: string | null;
  alerts: string[];
}

const iso = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? null : new Date(Number(ms)).toISOString();
const num = (v: number | null) => (v === null ? null : Number(v));

function notRegistered(): SmartlicError {
  return syncRefused('This satellite is not registered yet; register it with a satellite token first.');
}

/** The satellite side of the sync: registration, standard and full syncs, files, schedule, status. */
export function createSyncService(deps: SyncServiceDeps) {
  const { db, transactor, clock, pki } = deps;

  async function state(trx: Kysely<Database> = db): Promise<SyncStateRow> {
    const row = await trx.selectFrom('sync_state').selectAll().where('id', '=', SELF).executeTakeFirst();
    if (row) return row;
    const fresh: SyncStateRow = {
      id: SELF,
      satellite_id: null,
      name: null,
      account_id: null,
      upstream: deps.defaultUpstream ?? null,
      upstream_signer: null,
      root_ca_pem: null,
      registered_at: null,
      sequence: 0,
      applied_sequence: 0,
      pending_request: null,
      pending_kind: null,
      pending_digest: null,
      pending_event_cursor: null,
      pending_contact_cursor: null,
      event_cursor: '',
      contact_cursor: 0,
      schedule_days: DEFAULT_SCHEDULE_DAYS,
      last_sync_up_at: null,
      last_sync_down_at: null,
      sync_due_at: null,
      certificate_not_after: null,
      last_error: null,
      last_attempt_at: null,
      created_at: clock.now(),
    };
    await trx
      .insertInto('sync_state')
      .values(fresh)
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    return (await trx.selectFrom('sync_state').selectAll().where('id', '=', SELF).executeTakeFirst()) as SyncStateRow;
  }

  /** A request as it waits: its text as stored and sent, and what it carries. */
  interface WaitingRequest {
    text: string;
    sequence: number;
    createdAt: number;
    full: boolean;
    up: UpSummary;
  }

  /**
   * The request waiting for its answer, or a new one (standard or full) recorded as waiting. Its
   * text is written once, when it is signed, and stored, exported and sent as it is.
   */
  async function pendingOrNew(full: boolean): Promise<WaitingRequest> {
    return transactor.run(async (trx) => {
      const s = await state(trx);
      if (s.satellite_id === null || s.registered_at === null) throw notRegistered();
      if (s.pending_request !== null && s.pending_kind === 'sync-request') {
        const { payload } = JSON.parse(s.pending_request) as SyncDocument<'sync-request'>;
        return {
          text: s.pending_request,
          sequence: payload.sequence,
          createdAt: payload.createdAt,
          full: payload.full,
          up: { instances: instanceCount(payload), removed: payload.removed.length, events: payload.events.length },
        };
      }
      const now = clock.now();
      const changes = await readJournal(trx, {
        eventCursor: s.event_cursor,
        contactCursor: Number(s.contact_cursor),
        full,
        now,
      });
      const sequence = Number(s.sequence) + 1;
      const { digest, text } = await signDocumentWithDigest(
        'sync-request',
        {
          satelliteId: s.satellite_id,
          name: s.name ?? '',
          sequence,
          full,
          createdAt: now,
          schedule: num(s.schedule_days),
          version: SERVER_VERSION,
          ack: Number(s.applied_sequence),
          instances: changes.instances,
          removed: changes.removed,
          events: changes.events,
        },
        pki.satelliteKey().privateKey,
      );
      await trx
        .updateTable('sync_state')
        .set({
          sequence,
          pending_request: text,
          pending_kind: 'sync-request',
          pending_digest: digest,
          pending_event_cursor: changes.eventCursor,
          pending_contact_cursor: changes.contactCursor,
        })
        .where('id', '=', SELF)
        .execute();
      return {
        text,
        sequence,
        createdAt: now,
        full,
        up: {
          instances: changes.instances.rows.length,
          removed: changes.removed.length,
          events: changes.events.length,
        },
      };
    });
  }

  async function noteError(message: string | null): Promise<void> {
    await transactor.run(async (trx) => {
      await state(trx);
      await trx
        .updateTable('sync_state')
        .set({ last_error: message, last_attempt_at: clock.now() })
        .where('id', '=', SELF)
        .execute();
    });
  }

  async function sendUp(path: 'register' | 'sync', text: string, upstream: string): Promise<unknown> {
    try {
      const answer = await deps.send(upstream, path, text);
      return answer;
    } catch (error) {
      await noteError(error instanceof Error ? error.message : String(error));
      throw error;
    }
  }

  /** Checks and applies a registration response (network or file). */
  async function applyRegistration(value: unknown): Promise<ImportResult> {
    const doc = checkDocument(value, 'registration-response');
    const p = doc.payload;
    const s = await state();
    if (s.registered_at !== null) {
      throw syncRefused(
        s.satellite_id === p.satelliteId
          ? 'This registration response was already applied; nothing was changed.'
          : `This satellite is already registered as ${s.name}; this registration response is for another satellite.`,
      );
    }
    const pending = s.pending_request ? (JSON.parse(s.pending_request) as SyncDocument) : null;
    if (pending?.kind !== 'registration-request') {
      throw syncRefused('No registration request of this satellite is waiting for a response.');
    }
    if (documentDigest(pending) !== p.requestDigest) {
      throw syncRefused('This registration response answers another satellite’s request; nothing was changed.');
    }
    const now = clock.now();
    const signer = await verifyResponse(doc, p.rootCaPem, now);
    const key = pki.satelliteKey();
    const certKey = new X509Certificate(p.certificate.certificatePem).publicKey;
    if (!certKey.equals(createPublicKey(key.publicKeyPem))) {
      throw syncRefused('The certificate in this registration response is not for this satellite’s key.');
    }
    await pki.installSatelliteCertificate({
      rootCaPem: p.rootCaPem,
      certificatePem: p.certificate.certificatePem,
      chainPems: p.certificate.chainPems,
    });
    const down = await transactor.run(async (trx) => {
      const counts = await applyDownData(trx, p.down);
      const last = await trx.selectFrom('events').select('id').orderBy('id', 'desc').limit(1).executeTakeFirst();
      await trx
        .updateTable('sync_state')
        .set({
          satellite_id: p.satelliteId,
          name: p.name,
          account_id: p.down.account.id,
          upstream_signer: signer,
          root_ca_pem: p.rootCaPem,
          registered_at: now,
          sequence: 0,
          applied_sequence: 0,
          pending_request: null,
          pending_kind: null,
          pending_digest: null,
          pending_event_cursor: null,
          pending_contact_cursor: null,
          event_cursor: last?.id ?? '',
          contact_cursor: now,
          last_sync_up_at: now,
          last_sync_down_at: now,
          sync_due_at: p.syncDueAt,
          certificate_not_after: p.certificate.notAfter,
          last_error: null,
        })
        .where('id', '=', SELF)
        .execute();
      await recordEvent(trx, {
        at: now,
        actor: 'system',
        type: 'sync.registered',
        accountId: p.down.account.id,
        detail: { satelliteId: p.satelliteId, name: p.name, upstream: p.upstreamName },
      });
      return counts;
    });
    deps.tags.invalidate();
    return { kind: 'registration-response', sequence: 0, applied: true, down: { ...down, certificateRenewed: true } };
  }

  /** Checks and applies a sync response: once, and only the answer to the request waiting. */
  async function applySyncResponse(value: unknown): Promise<ImportResult> {
    const doc = checkDocument(value, 'sync-response');
    const p = doc.payload;
    const s = await state();
    if (s.registered_at === null || s.root_ca_pem === null) throw notRegistered();
    if (p.satelliteId !== s.satellite_id) {
      throw syncRefused(`This response is for another satellite, not ${s.name}; nothing was changed.`);
    }
    const now = clock.now();
    const signer = await verifyResponse(doc, s.root_ca_pem, now);
    if (s.upstream_signer !== null && signer !== s.upstream_signer) {
      throw syncRefused(`This response is not signed by the upstream of ${s.name}; nothing was changed.`);
    }
    const waiting = s.pending_kind === 'sync-request' ? s.pending_digest : null;
    if (p.sequence <= Number(s.applied_sequence) && waiting !== p.requestDigest) {
      throw syncRefused(`This response (sequence ${p.sequence}) was already applied; nothing was changed.`);
    }
    if (waiting === null) {
      throw syncRefused(`No request of ${s.name} is waiting for a response; nothing was changed.`);
    }
    if (waiting !== p.requestDigest) {
      throw syncRefused(
        `This response answers another request (sequence ${p.sequence}), not the one waiting (sequence ${Number(s.sequence)}); nothing was changed.`,
      );
    }
    if (p.certificate) {
      const certKey = new X509Certificate(p.certificate.certificatePem).publicKey;
      if (!certKey.equals(createPublicKey(pki.satelliteKey().publicKeyPem))) {
        throw syncRefused('The certificate in this response is not for this satellite’s key; nothing was changed.');
      }
      await pki.installSatelliteCertificate({
        rootCaPem: s.root_ca_pem,
        certificatePem: p.certificate.certificatePem,
        chainPems: p.certificate.chainPems,
      });
    }
    const down = await transactor.run(async (trx) => {
      const updated = await trx
        .updateTable('sync_state')
        .set({
          applied_sequence: p.sequence,
          pending_request: null,
          pending_kind: null,
          pending_digest: null,
          event_cursor: s.pending_event_cursor ?? s.event_cursor,
          contact_cursor: s.pending_contact_cursor ?? s.contact_cursor,
          pending_event_cursor: null,
          pending_contact_cursor: null,
          last_sync_up_at: now,
          last_sync_down_at: now,
          sync_due_at: p.syncDueAt,
          last_error: null,
          ...(p.certificate ? { certificate_not_after: p.certificate.notAfter } : {}),
        })
        .where('id', '=', SELF)
        .where('pending_digest', '=', waiting)
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) !== 1)
        throw syncRefused('This response was applied meanwhile; nothing was changed.');
      const counts = await applyDownData(trx, p.down);
      await recordEvent(trx, {
        at: now,
        actor: 'system',
        type: 'sync.applied',
        accountId: s.account_id,
        detail: { sequence: p.sequence, ...p.applied, certificateRenewed: p.certificate !== null },
      });
      return counts;
    });
    deps.tags.invalidate();
    return {
      kind: 'sync-response',
      sequence: p.sequence,
      applied: true,
      down: { ...down, certificateRenewed: p.certificate !== null },
    };
  }

  async function roundTrip(full: boolean, upstream: string): Promise<SyncNowResult> {
    const request = await pendingOrNew(full);
    const answer = await sendUp('sync', request.text, upstream);
    const result = await applySyncResponse(answer);
    return { sequence: result.sequence, full: request.full, up: request.up, down: result.down };
  }

  return {
    /**
     * Registers this satellite with a satellite token: over the network to `upstream` (answered
     * and installed at once), or, without one, as a request file for `admin satellite file-sync`.
     */
    async register(input: {
      token: string;
      upstream?: string | undefined;
      file?: boolean;
    }): Promise<
      | { registered: true; name: string; satelliteId: string }
      | { registered: false; file: string; document: SyncDocument }
    > {
      const s = await state();
      if (s.registered_at !== null) throw syncRefused(`This satellite is already registered as ${s.name}.`);
      const upstream = input.file ? undefined : (input.upstream ?? s.upstream ?? undefined);
      if (!input.file && !upstream) {
        throw new SmartlicError('BAD_REQUEST', {
          message: 'Name the upstream to register with (its URL), or ask for a registration request file.',
        });
      }
      const key = pki.satelliteKey();
      const now = clock.now();
      const doc = await signDocument(
        'registration-request',
        {
          token: input.token,
          publicKeyPem: key.publicKeyPem,
          createdAt: now,
          version: SERVER_VERSION,
          schedule: num(s.schedule_days),
        },
        key.privateKey,
      );
      await transactor.run(async (trx) => {
        await trx
          .updateTable('sync_state')
          .set({
            pending_request: JSON.stringify(doc),
            pending_kind: 'registration-request',
            pending_digest: documentDigest(doc),
            upstream: upstream ?? s.upstream,
          })
          .where('id', '=', SELF)
          .execute();
      });
      if (!upstream) return { registered: false, file: requestFileName('satellite', now, 0), document: doc };
      const answer = await sendUp('register', JSON.stringify(doc), upstream);
      await applyRegistration(answer);
      const after = await state();
      return { registered: true, name: after.name ?? '', satelliteId: after.satellite_id ?? '' };
    },

    /**
     * A network sync now: re-sends a request still waiting for its answer first (a lost answer
     * is fetched again), then sends what changed since (or everything, `full`).
     */
    async syncNow(full: boolean): Promise<SyncNowResult> {
      const s = await state();
      if (s.registered_at === null) throw notRegistered();
      if (!s.upstream) {
        throw syncRefused(
          `Satellite ${s.name} has no upstream URL: it synchronises by files (sync export, sync import).`,
        );
      }
      let result: SyncNowResult | undefined;
      if (s.pending_request !== null) {
        // A lost answer is fetched again first; what changed since goes in a new request.
        result = await roundTrip(full, s.upstream);
        if (result.full && full) return result;
      }
      const fresh = await roundTrip(full, s.upstream);
      if (!result) return fresh;
      return {
        ...fresh,
        up: {
          instances: result.up.instances + fresh.up.instances,
          removed: result.up.removed + fresh.up.removed,
          events: result.up.events + fresh.up.events,
        },
      };
    },

    /** The request file to carry to the upstream: the one waiting for its answer, or a new one. */
    async exportRequest(full: boolean): Promise<ExportResult> {
      const s = await state();
      if (s.registered_at === null) {
        const pending = s.pending_request ? (JSON.parse(s.pending_request) as SyncDocument) : null;
        if (pending?.kind === 'registration-request') {
          return {
            file: requestFileName('satellite', Number(pending.payload.createdAt), 0),
            sequence: 0,
            kind: 'registration-request',
            documentText: s.pending_request as string,
          };
        }
        throw notRegistered();
      }
      const { text, sequence, createdAt } = await pendingOrNew(full);
      return {
        file: requestFileName(s.name ?? 'satellite', createdAt, sequence),
        sequence,
        kind: 'sync-request',
        documentText: text,
      };
    },

    /** Loads a response file (registration or sync). */
    async importResponse(value: unknown): Promise<ImportResult> {
      const kind = (value as { kind?: unknown } | null)?.kind;
      if (kind === 'registration-response') return applyRegistration(value);
      return applySyncResponse(value);
    },

    /** Sets the schedule: every `days` days, or off (null). */
    async schedule(days: number | null): Promise<{ scheduleDays: number | null }> {
      await transactor.run(async (trx) => {
        await state(trx);
        await trx.updateTable('sync_state').set({ schedule_days: days }).where('id', '=', SELF).execute();
      });
      return { scheduleDays: days };
    },

    /** `sync status`: who this satellite is, its VAs, health and alerts. */
    async status(): Promise<SyncStatus> {
      const s = await state();
      const now = clock.now();
      const vas =
        s.registered_at === null
          ? []
          : await db.selectFrom('virtual_accounts').select(['id', 'name']).orderBy('name').execute();
      const schedule = num(s.schedule_days);
      const lastUp = num(s.last_sync_up_at);
      const { health, alerts } =
        s.registered_at === null
          ? { health: 'Not registered: register this satellite with a satellite token', alerts: [] }
          : satelliteHealth({
              now,
              lastSyncAt: lastUp,
              syncDueAt: num(s.sync_due_at),
              certificateNotAfter: num(s.certificate_not_after),
              upstreamError: s.last_error,
            });
      return {
        name: s.name,
        satelliteId: s.satellite_id,
        upstream: s.upstream,
        registered: s.registered_at !== null,
        vas,
        health,
        lastSyncUp: iso(lastUp),
        lastSyncDown: iso(num(s.last_sync_down_at)),
        syncDue: iso(num(s.sync_due_at)),
        nextScheduledSync: schedule === null || lastUp === null || !s.upstream ? null : iso(lastUp + schedule * DAY),
        scheduleDays: schedule,
        certificateExpiresAt: iso(num(s.certificate_not_after)),
        pendingRequest: s.pending_kind === 'sync-request' ? Number(s.sequence) : null,
        lastError: s.last_error,
        alerts,
      };
    },

    /** The scheduled sync (a job): a network sync when the schedule says one is due. */
    async runScheduled(): Promise<SyncNowResult | null> {
      const s = await state();
      if (s.registered_at === null || !s.upstream || s.schedule_days === null) return null;
      const last = Number(s.last_sync_up_at ?? s.registered_at);
      const now = clock.now();
      const retryAfter =
        s.last_error !== null && s.last_attempt_at !== null && now - Number(s.last_attempt_at) < 60 * 60 * 1000;
      if (now < last + Number(s.schedule_days) * DAY || retryAfter) return null;
      return this.syncNow(false);
    },
  };
}

/** The service's type. */
export type SyncService = ReturnType<typeof createSyncService>;
