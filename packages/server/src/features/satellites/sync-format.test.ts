import { generateKeyPairSync } from 'node:crypto';
import { canonicalize } from '@smartlic/protocol';
import { describe, expect, it } from 'vitest';
import { INSTANCE_COLUMNS, type InstanceTable, readInstanceTable, toInstanceTable } from './instance-table.js';
import {
  checkSyncRequest,
  documentDigest,
  type InstanceSnapshot,
  SYNC_FORMAT,
  SYNC_REQUEST_FORMAT,
  type SyncRequest,
  type SyncRequestV1,
  signDocumentWithDigest,
  verifyDocument,
} from './sync-format.js';

const keys = generateKeyPairSync('ec', { namedCurve: 'P-256' });

function snapshot(n: number, over: Partial<InstanceSnapshot> = {}): InstanceSnapshot {
  return {
    complianceStatus: n % 2 === 0 ? 'AUTHORIZED' : null,
    exportControlled: n % 3 === 0,
    hostname: n % 4 === 0 ? null : `host-${n}`,
    id: `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`,
    idCertExpiresAt: 1_800_000_000_000 + n,
    idCertSerial: `serial-${n}`,
    lastContactAt: 1_767_225_600_000 + n,
    pid: 'C9300',
    publicKeySpki: `MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE${n}`,
    registeredAt: 1_767_225_600_000 - n,
    sn: `SN${n}`,
    softwareTag: 'regid.2026-01.org.example.os',
    usage:
      n % 5 === 0
        ? []
        : [
            { count: n, displayName: 'Advantage', tag: 'regid.2026-01.org.example.Advantage' },
            { count: 1, displayName: null, tag: 'regid.2026-01.org.example.Essentials' },
          ],
    vaId: n % 2 === 0 ? 'va-lab' : 'va-shop',
    ...over,
  };
}

const head = {
  satelliteId: 'sat-1',
  name: 'site',
  sequence: 3,
  full: true,
  createdAt: 1_767_225_600_000,
  schedule: 30,
  version: '1.0.0',
  ack: 2,
  removed: ['gone-1'],
  events: [{ id: 'e1', at: 1, actor: 'device:x', type: 'instance.registered', vaId: 'va-lab', detail: { b: 1, a: 2 } }],
};

/** A document as it travels: written as text, read back by JSON.parse. */
const travel = (text: string): unknown => JSON.parse(text);

describe('instance table (smartlic-sync/2)', () => {
  it('writes a fixed canonical form: one row per instance, repeated values once in strings', () => {
    const table = toInstanceTable([snapshot(1), snapshot(2)]);
    expect(canonicalize(table)).toBe(
      '{"columns":["id","vaId","pid","sn","hostname","softwareTag","publicKeySpki","idCertSerial","idCertExpiresAt",' +
        '"registeredAt","lastContactAt","exportControlled","complianceStatus","usage"],"rows":[' +
        '["00000000-0000-4000-8000-000000000001",0,1,"SN1","host-1",2,"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE1",' +
        '"serial-1",1800000000001,1767225599999,1767225600001,0,null,[3,1,4,5,1,null]],' +
        '["00000000-0000-4000-8000-000000000002",6,1,"SN2","host-2",2,"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE2",' +
        '"serial-2",1800000000002,1767225599998,1767225600002,0,7,[3,2,4,5,1,null]]],' +
        '"strings":["va-shop","C9300","regid.2026-01.org.example.os","regid.2026-01.org.example.Advantage",' +
        '"Advantage","regid.2026-01.org.example.Essentials","va-lab","AUTHORIZED"]}',
    );
    // Canonical as written: the engine's JSON.stringify gives the same text.
    expect(JSON.stringify(table)).toBe(canonicalize(table));
  });

  it('reads back exactly the snapshots it was written from', () => {
    const instances = Array.from({ length: 50 }, (_, n) => snapshot(n));
    const table = toInstanceTable(instances);
    expect(table.strings.length).toBeLessThan(10);
    expect(readInstanceTable(travel(JSON.stringify(table)))).toEqual(instances);
  });

  it('refuses a table that is not as written, cell by cell', () => {
    const good = () => structuredClone(toInstanceTable([snapshot(1)])) as InstanceTable & { rows: unknown[][] };
    const cases: Array<[string, (t: InstanceTable & { rows: unknown[][] }) => unknown]> = [
      ['other columns', (t) => ({ ...t, columns: [...INSTANCE_COLUMNS].reverse() })],
      ['a short row', (t) => ({ ...t, rows: [t.rows[0]?.slice(0, 13)] })],
      ['an index past the strings', (t) => ((t.rows[0] as unknown[])[1] = 99)],
      ['a fractional index', (t) => ((t.rows[0] as unknown[])[2] = 0.5)],
      ['a number for a text', (t) => ((t.rows[0] as unknown[])[3] = 7)],
      ['an object for a hostname', (t) => ((t.rows[0] as unknown[])[4] = { deep: [[[1]]] })],
      ['a text for a time', (t) => ((t.rows[0] as unknown[])[9] = '1')],
      ['a boolean for exportControlled', (t) => ((t.rows[0] as unknown[])[11] = true)],
      ['usage not in triples', (t) => ((t.rows[0] as unknown[])[13] = [3, 1])],
      ['a fractional count', (t) => ((t.rows[0] as unknown[])[13] = [3, 1.5, null])],
      ['an empty VA id', (t) => ((t.strings[0] as string) = '')],
      ['an overlong serial', (t) => ((t.rows[0] as unknown[])[7] = 'x'.repeat(201))],
      ['no rows', (t) => ({ ...t, rows: 'none' })],
    ];
    for (const [what, alter] of cases) {
      const table = good();
      const altered = alter(table);
      const value = typeof altered === 'object' && altered !== null && 'columns' in altered ? altered : table;
      expect(readInstanceTable(value), what).toBeUndefined();
    }
    expect(readInstanceTable(good())).toHaveLength(1);
  });
});

describe('sync request documents', () => {
  it('signs a request as smartlic-sync/2 with its text, digest and signature from one serialisation', async () => {
    const instances = [snapshot(1), snapshot(2), snapshot(5)];
    const payload: SyncRequest = { ...head, instances: toInstanceTable(instances) };
    const signed = await signDocumentWithDigest('sync-request', payload, keys.privateKey);
    expect(signed.doc.format).toBe(SYNC_REQUEST_FORMAT);
    expect(travel(signed.text)).toEqual(signed.doc);
    expect(signed.digest).toBe(documentDigest(signed.doc));

    const read = checkSyncRequest(travel(signed.text));
    expect(read.instances).toEqual(instances);
    expect(await verifyDocument(read.doc, keys.publicKey)).toBe(signed.digest);

    const altered = travel(signed.text) as { payload: { instances: { rows: unknown[][] } } };
    (altered.payload.instances.rows[0]?.[13] as number[])[1] = 9;
    const refused = checkSyncRequest(altered);
    await expect(verifyDocument(refused.doc, keys.publicKey)).rejects.toThrow(/signature does not match/);
  });

  it('still reads a request of the previous format (an object per instance), signature and all', async () => {
    const instances = [snapshot(1), snapshot(4)];
    const payload: SyncRequestV1 = { ...head, instances };
    const signed = await signDocumentWithDigest('sync-request', payload, keys.privateKey, undefined, SYNC_FORMAT);
    expect(signed.doc.format).toBe(SYNC_FORMAT);
    const read = checkSyncRequest(travel(signed.text));
    expect(read.instances).toEqual(instances);
    expect(await verifyDocument(read.doc, keys.publicKey)).toBe(signed.digest);
  });

  it('refuses, with one sentence, a table under the old format name, a malformed table and other kinds as /2', async () => {
    const table = toInstanceTable([snapshot(1)]);
    const v2 = await signDocumentWithDigest('sync-request', { ...head, instances: table }, keys.privateKey);
    const asV1 = { ...(travel(v2.text) as object), format: SYNC_FORMAT };
    expect(() => checkSyncRequest(asV1)).toThrow(/This sync-request is malformed: its content is not valid\./);
    const broken = travel(v2.text) as { payload: { instances: { rows: unknown[][] } } };
    broken.payload.instances.rows[0]?.splice(3, 1);
    expect(() => checkSyncRequest(broken)).toThrow(/This sync-request is malformed/);
    const deepEvent = travel(v2.text) as { payload: { events: Array<{ detail: unknown }> } };
    let deep: unknown = 1;
    for (let i = 0; i < 5000; i++) deep = { a: deep };
    (deepEvent.payload.events[0] as { detail: unknown }).detail = deep;
    expect(() => checkSyncRequest(deepEvent)).toThrow(/nests too deep/);
  });
});
