import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { type Clock, DAY } from '@smartlic/protocol';
import type { Kysely } from 'kysely';
import { conflict, notFound } from '../../errors.js';
import type { Database, SatelliteRow } from '../../storage/schema.js';
import type { Transactor } from '../../storage/transactor.js';
import { type Actor, recordEvent } from '../events/event-recorder.js';
import { applyUp, type UpCounts } from './apply-up.js';
import { readDownData } from './down-data.js';
import { certificateNeedsRenewal, satelliteAlerts } from './satellite-health.js';
import type { SyncPki } from './satellite-pki-port.js';
import {
  checkDocument,
  checkSyncRequest,
  type SyncDocument,
  signDocument,
  syncRefused,
  verifyDocument,
} from './sync-format.js';

/** How long a satellite's registration token stays valid. */
export const SATELLITE_TOKEN_DAYS = 30;
/** Default days between syncs, and the due date of a satellite that syncs only by hand. */
export const DEFAULT_SYNC_DAYS = 30;

export interface SatelliteServiceDeps {
  db: Kysely<Database>;
  transactor: Transactor;
  clock: Clock;
  pki: SyncPki;
  /** This node's name as satellites see it ('authority', or a middle satellite's name). */
  nodeName: () => string;
}

export interface CreatedSatellite {
  id: string;
  name: string;
  token: string;
  expiresAt: string;
}

export interface SatelliteView {
  id: string;
  name: string;
  accountId: string;
  vas: Array<{ id: string; name: string }>;
  productInstances: number;
  registered: boolean;
  lastSyncUp: string | null;
  lastSyncDown: string | null;
  syncDue: string | null;
  version: string | null;
  certificateExpiresAt: string | null;
  alerts: string[];
}

/** The answer to a file or network sync: the response document and what it did. */
export interface SyncAnswer {
  satellite: string;
  sequence: number;
  /** False when the same request came again and its stored response was returned. */
  applied: boolean;
  response: SyncDocument;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());
const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** The authority side of satellites (or a middle satellite's side of its children): records, registration, sync. */
export function createSatelliteService(deps: SatelliteServiceDeps) {
  const { db, transactor, clock, pki } = deps;

  async function vasOf(trx: Kysely<Database>, satelliteId: string): Promise<string[]> {
    const rows = await trx
      .selectFrom('satellite_vas')
      .select('va_id')
      .where('satellite_id', '=', satelliteId)
      .orderBy('va_id')
      .execute();
    return rows.map((r) => r.va_id);
  }

  async function sign<K extends 'registration-response' | 'sync-response'>(
    kind: K,
    payload: SyncDocument<K>['payload'],
  ): Promise<SyncDocument<K>> {
    const signer = pki.signer();
    return signDocument(kind, payload, signer.key, signer.certificates);
  }

  async function renewalFor(row: SatelliteRow, now: number) {
    if (
      !row.public_key_pem ||
      (row.certificate_not_after !== null && !certificateNeedsRenewal(Number(row.certificate_not_after), now))
    ) {
      return null;
    }
    return pki.issueSatelliteCa({ publicKeyPem: row.public_key_pem, satelliteName: row.name, now });
  }

  return {
    /** Creates a satellite of `accountId` serving `vaIds`, with its one-time registration token. */
    async create(input: { name: string; accountId: string; vaIds: string[] }, actor: Actor): Promise<CreatedSatellite> {
      if (!NAME.test(input.name)) {
        throw conflict(
          `The satellite name "${input.name}" is not valid: use 1 to 64 letters, digits, dots, dashes or underscores.`,
        );
      }
      const now = clock.now();
      // `S` first: a base64url value may begin with '-', which a command line reads as an option
      // (`sync register --token -x…`), as registration tokens begin with `T`.
      const token = `S${randomBytes(24).toString('base64url')}`;
      const id = randomUUID();
      const expiresAt = now + SATELLITE_TOKEN_DAYS * DAY;
      await transactor.run(async (trx) => {
        const account = await trx
          .selectFrom('smart_accounts')
          .select('id')
          .where('id', '=', input.accountId)
          .executeTakeFirst();
        if (!account) throw notFound('Smart account', input.accountId);
        if (await trx.selectFrom('satellites').select('id').where('name', '=', input.name).executeTakeFirst()) {
          throw conflict(`A satellite named ${input.name} already exists.`);
        }
        for (const vaId of new Set(input.vaIds)) {
          const va = await trx
            .selectFrom('virtual_accounts')
            .select(['id', 'name', 'account_id'])
            .where('id', '=', vaId)
            .executeTakeFirst();
          if (!va || va.account_id !== input.accountId) throw notFound('Virtual account', vaId);
          const served = await servingSatellite(trx, vaId);
          if (served) throw conflict(`Virtual Account ${va.name} is already served by satellite ${served.name}.`);
        }
        await trx
          .insertInto('satellites')
          .values({
            id,
            account_id: input.accountId,
            name: input.name,
            token_hash: hashToken(token),
            token_expires_at: expiresAt,
            public_key_pem: null,
            certificate_pem: null,
            certificate_not_after: null,
            registered_at: null,
            version: null,
            last_sync_up_at: null,
            last_sync_down_at: null,
            sync_due_at: null,
            sync_sequence: 0,
            last_request_digest: null,
            last_response: null,
            created_at: now,
          })
          .execute();
        for (const vaId of new Set(input.vaIds)) {
          await trx.insertInto('satellite_vas').values({ va_id: vaId, satellite_id: id }).execute();
        }
        await recordEvent(trx, {
          at: now,
          actor,
          type: 'satellite.created',
          accountId: input.accountId,
          detail: { satelliteId: id, name: input.name, vas: [...new Set(input.vaIds)] },
        });
      });
      return { id, name: input.name, token, expiresAt: new Date(expiresAt).toISOString() };
    },

    /** The satellites of an account, with their health (SPEC §8). */
    async list(accountId: string): Promise<SatelliteView[]> {
      const now = clock.now();
      const rows = await db
        .selectFrom('satellites')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('name')
        .execute();
      const out: SatelliteView[] = [];
      for (const row of rows) {
        const vas = await db
          .selectFrom('satellite_vas as s')
          .innerJoin('virtual_accounts as v', 'v.id', 's.va_id')
          .select(['v.id', 'v.name'])
          .where('s.satellite_id', '=', row.id)
          .orderBy('v.name')
          .execute();
        const count = vas.length
          ? await db
              .selectFrom('instances')
              .select((eb) => eb.fn.countAll<number>().as('n'))
              .where(
                'va_id',
                'in',
                vas.map((v) => v.id),
              )
              .executeTakeFirstOrThrow()
          : { n: 0 };
        const num = (v: number | null) => (v === null ? null : Number(v));
        out.push({
          id: row.id,
          name: row.name,
          accountId: row.account_id,
          vas: vas.map((v) => ({ id: v.id, name: v.name })),
          productInstances: Number(count.n),
          registered: row.registered_at !== null,
          lastSyncUp: iso(num(row.last_sync_up_at)),
          lastSyncDown: iso(num(row.last_sync_down_at)),
          syncDue: iso(num(row.sync_due_at)),
          version: row.version,
          certificateExpiresAt: iso(num(row.certificate_not_after)),
          alerts:
            row.registered_at === null
              ? []
              : satelliteAlerts({
                  now,
                  lastSyncAt: num(row.last_sync_up_at),
                  syncDueAt: num(row.sync_due_at),
                  certificateNotAfter: num(row.certificate_not_after),
                }),
        });
      }
      return out;
    },

    /** The account a satellite belongs to (for access checks). */
    async accountOf(satelliteId: string): Promise<string | undefined> {
      const row = await db
        .selectFrom('satellites')
        .select('account_id')
        .where('id', '=', satelliteId)
        .executeTakeFirst();
      return row?.account_id;
    },

    /** Removes a satellite: its VAs are served by this node again; their mirrored instances stay. */
    async remove(satelliteId: string, actor: Actor): Promise<{ id: string; name: string; vas: string[] }> {
      return transactor.run(async (trx) => {
        const row = await trx.selectFrom('satellites').selectAll().where('id', '=', satelliteId).executeTakeFirst();
        if (!row) throw notFound('Satellite', satelliteId);
        const vas = await vasOf(trx, satelliteId);
        await trx.deleteFrom('satellite_vas').where('satellite_id', '=', satelliteId).execute();
        await trx.deleteFrom('satellites').where('id', '=', satelliteId).execute();
        await recordEvent(trx, {
          at: clock.now(),
          actor,
          type: 'satellite.removed',
          accountId: row.account_id,
          detail: { satelliteId, name: row.name, vas },
        });
        return { id: satelliteId, name: row.name, vas };
      });
    },

    /** Answers a registration request (network or file); the same request again gets the same response. */
    async register(value: unknown): Promise<SyncAnswer> {
      const doc = checkDocument(value, 'registration-request');
      const digest = await verifyDocument(doc, doc.payload.publicKeyPem);
      const again = await db
        .selectFrom('satellites')
        .selectAll()
        .where('last_request_digest', '=', digest)
        .executeTakeFirst();
      if (again?.last_response && Number(again.sync_sequence) === 0) {
        return { satellite: again.name, sequence: 0, applied: false, response: JSON.parse(again.last_response) };
      }
      const row = await db
        .selectFrom('satellites')
        .selectAll()
        .where('token_hash', '=', hashToken(doc.payload.token))
        .executeTakeFirst();
      if (!row)
        throw syncRefused(
          'This satellite registration token is not valid: it was never issued, or it was already used.',
        );
      const now = clock.now();
      if (Number(row.token_expires_at) < now) {
        throw syncRefused('This satellite registration token has expired; create the satellite again.');
      }
      const certificate = await pki.issueSatelliteCa({
        publicKeyPem: doc.payload.publicKeyPem,
        satelliteName: row.name,
        now,
      });
      const syncDueAt = now + (doc.payload.schedule ?? DEFAULT_SYNC_DAYS) * DAY;
      return transactor.run(async (trx) => {
        const vaIds = await vasOf(trx, row.id);
        const response = await sign('registration-response', {
          requestDigest: digest,
          satelliteId: row.id,
          name: row.name,
          upstreamName: deps.nodeName(),
          createdAt: now,
          rootCaPem: pki.rootCaPem(),
          certificate,
          syncDueAt,
          down: await readDownData(trx, row.account_id, vaIds),
        });
        const updated = await trx
          .updateTable('satellites')
          .set({
            token_hash: null,
            public_key_pem: doc.payload.publicKeyPem,
            certificate_pem: certificate.certificatePem,
            certificate_not_after: certificate.notAfter,
            registered_at: now,
            version: doc.payload.version,
            last_sync_up_at: now,
            last_sync_down_at: now,
            sync_due_at: syncDueAt,
            sync_sequence: 0,
            last_request_digest: digest,
            last_response: JSON.stringify(response),
          })
          .where('id', '=', row.id)
          .where('token_hash', '=', hashToken(doc.payload.token))
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) !== 1) {
          throw syncRefused('This satellite registration token was already used.');
        }
        await recordEvent(trx, {
          at: now,
          actor: `satellite:${row.name}`,
          type: 'satellite.registered',
          accountId: row.account_id,
          detail: { satelliteId: row.id, name: row.name, certificateExpiresAt: iso(certificate.notAfter) },
        });
        return { satellite: row.name, sequence: 0, applied: true, response };
      });
    },

    /**
     * Applies a sync request once and answers it. The next sequence after the last applied one is
     * applied (in one transaction with its response); the last one again returns its stored
     * response; anything else — older, skipped, altered, another satellite's — is refused.
     */
    async sync(value: unknown): Promise<SyncAnswer> {
      const { doc, instances } = checkSyncRequest(value);
      const p = doc.payload;
      const row = await db.selectFrom('satellites').selectAll().where('id', '=', p.satelliteId).executeTakeFirst();
      if (!row || row.public_key_pem === null) {
        throw syncRefused(`This request is from satellite ${p.name}, which is not registered here.`);
      }
      const digest = await verifyDocument(doc, row.public_key_pem);
      const last = Number(row.sync_sequence);
      if (p.sequence === last && row.last_request_digest === digest && row.last_response) {
        return { satellite: row.name, sequence: last, applied: false, response: JSON.parse(row.last_response) };
      }
      if (p.sequence <= last) {
        throw syncRefused(
          `This request of satellite ${row.name} (sequence ${p.sequence}) is older than the last one applied (${last}); nothing was changed.`,
        );
      }
      if (p.sequence !== last + 1) {
        throw syncRefused(
          `This request of satellite ${row.name} has sequence ${p.sequence}, but ${last + 1} was expected; nothing was changed.`,
        );
      }
      const now = clock.now();
      const certificate = await renewalFor(row, now);
      const syncDueAt = now + (p.schedule ?? DEFAULT_SYNC_DAYS) * DAY;
      return transactor.run(async (trx) => {
        const vaIds = await vasOf(trx, row.id);
        const vaSet = new Set(vaIds);
        const foreign = instances.find((i) => !vaSet.has(i.vaId));
        if (foreign) {
          throw syncRefused(
            `This request of satellite ${row.name} holds an instance of Virtual Account ${foreign.vaId}, which it does not serve; nothing was changed.`,
          );
        }
        const counts: UpCounts = await applyUp(
          trx,
          { name: row.name, accountId: row.account_id, vaIds: vaSet },
          { full: p.full, instances, removed: p.removed, events: p.events },
        );
        const response = await sign('sync-response', {
          requestDigest: digest,
          satelliteId: row.id,
          sequence: p.sequence,
          createdAt: now,
          applied: counts,
          certificate,
          syncDueAt,
          down: await readDownData(trx, row.account_id, vaIds),
        });
        const updated = await trx
          .updateTable('satellites')
          .set({
            sync_sequence: p.sequence,
            last_request_digest: digest,
            last_response: JSON.stringify(response),
            last_sync_up_at: now,
            last_sync_down_at: now,
            sync_due_at: syncDueAt,
            version: p.version,
            ...(certificate
              ? { certificate_pem: certificate.certificatePem, certificate_not_after: certificate.notAfter }
              : {}),
          })
          .where('id', '=', row.id)
          .where('sync_sequence', '=', last)
          .executeTakeFirst();
        if (Number(updated.numUpdatedRows) !== 1) {
          throw syncRefused(`Another request of satellite ${row.name} was applied meanwhile; nothing was changed.`);
        }
        await recordEvent(trx, {
          at: now,
          actor: `satellite:${row.name}`,
          type: 'satellite.synced',
          accountId: row.account_id,
          detail: { satelliteId: row.id, sequence: p.sequence, full: p.full, ...counts, renewed: certificate !== null },
        });
        return { satellite: row.name, sequence: p.sequence, applied: true, response };
      });
    },

    /** `admin satellite file-sync`: answers a registration or sync request document. */
    async fileSync(value: unknown): Promise<SyncAnswer> {
      const kind = (value as { kind?: unknown } | null)?.kind;
      return kind === 'registration-request' ? this.register(value) : this.sync(value);
    },
  };
}

/** The service's type. */
export type SatelliteService = ReturnType<typeof createSatelliteService>;

/** The satellite that serves `vaId`, if any. */
export async function servingSatellite(
  db: Kysely<Database>,
  vaId: string,
): Promise<{ id: string; name: string } | undefined> {
  return db
    .selectFrom('satellite_vas as s')
    .innerJoin('satellites as t', 't.id', 's.satellite_id')
    .select(['t.id', 't.name'])
    .where('s.va_id', '=', vaId)
    .executeTakeFirst();
}
