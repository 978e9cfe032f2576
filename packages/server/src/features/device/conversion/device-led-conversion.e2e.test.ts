import { DEVICE_ROUTES } from '@smartlic/protocol';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../../../test-support/postgres.js';
import type { SimDevice } from '../../../test-support/sim-device.js';
import { startTestServer, type TestServer } from '../../../test-support/test-server.js';

const LEGACY = [
  { legacyId: 'PAK-3850-001:ipservices', tag: 'regid.c3850.ipservices', count: 1, name: 'C3850 IP Services' },
  { legacyId: 'PAK-3850-001:ap-count', tag: 'regid.c3850.ap', count: 25 },
];

describeEachEngine('device-led conversion', (engine) => {
  let t: TestServer;
  let accountId: string;
  let vaId: string;
  let device: SimDevice;

  beforeAll(async () => {
    t = await startTestServer({ engine });
    accountId = (await t.admin.createAccount('DLC', 'dlc.example.com')).id;
    vaId = (await t.admin.createVa(accountId, 'Campus')).id;
    // Device-led conversion is off until an admin of the VA turns it on (defaults caps: 100 per license).
    await t.admin.ok('PATCH', `/api/v1/virtual-accounts/${vaId}/conversion-settings`, { mode: 'on' }, 200);
    device = t.device('WS-C3850-24T');
    expect((await device.register((await t.admin.createToken(vaId)).token)).status).toBe(200);
  });
  afterAll(async () => t.dispose());

  const report = (licenses: unknown[]) => device.sign(device.identified('convert', { licenses }));

  it('deposits the reported legacy licenses into the VA once', async () => {
    const first = await device.sendVerified(DEVICE_ROUTES.convert, 'convert', report(LEGACY));
    expect(first.status).toBe(200);
    expect((first.body as { payload: unknown }).payload).toMatchObject({
      type: 'convert-response',
      instanceId: device.instanceId,
      alreadyConverted: false,
      deposited: [
        { tag: 'regid.c3850.ipservices', count: 1 },
        { tag: 'regid.c3850.ap', count: 25 },
      ],
      licenses: [
        { legacyId: LEGACY[0]!.legacyId, tag: 'regid.c3850.ipservices', count: 1, outcome: 'deposited' },
        { legacyId: LEGACY[1]!.legacyId, tag: 'regid.c3850.ap', count: 25, outcome: 'deposited' },
      ],
    });
    const quantities = async () =>
      Object.fromEntries((await t.admin.listLicenses(vaId)).map((l) => [l.tag, l.quantity]));
    expect(await quantities()).toEqual({ 'regid.c3850.ap': 25, 'regid.c3850.ipservices': 1 });

    t.clock.advance(1000);
    const second = await device.sendVerified(DEVICE_ROUTES.convert, 'convert', report(LEGACY));
    expect(second.status).toBe(200);
    expect((second.body as { payload: unknown }).payload).toMatchObject({
      alreadyConverted: true,
      deposited: [],
      licenses: LEGACY.map((l) => expect.objectContaining({ legacyId: l.legacyId, outcome: 'already-reported' })),
    });
    expect(await quantities()).toEqual({ 'regid.c3850.ap': 25, 'regid.c3850.ipservices': 1 });

    const history = await t.admin.ok<Array<{ kind: string; legacyId: string; udi: string; instanceId: string }>>(
      'GET',
      `/api/v1/accounts/${accountId}/conversions`,
    );
    expect(history.map((h) => [h.kind, h.legacyId, h.instanceId])).toEqual([
      // Same time: ordered by legacy id.
      ['device', LEGACY[1]!.legacyId, device.instanceId],
      ['device', LEGACY[0]!.legacyId, device.instanceId],
    ]);
    expect(history[0]?.udi).toBe(`PID:WS-C3850-24T SN:${device.udi.sn}`);
  });

  it('deposits only the licenses not converted before', async () => {
    const more = [
      ...LEGACY,
      { legacyId: 'RTU-9300:dna', tag: 'regid.c9300.dna', count: 2, type: 'term', endsAt: t.clock.now() + 86_400_000 },
    ];
    const answer = await device.sendVerified(DEVICE_ROUTES.convert, 'convert', report(more));
    expect((answer.body as { payload: unknown }).payload).toMatchObject({
      alreadyConverted: false,
      deposited: [{ tag: 'regid.c9300.dna', count: 2 }],
    });
  });

  it('refuses replays, bad signatures and malformed reports', async () => {
    const envelope = report(LEGACY);
    expect((await device.send(DEVICE_ROUTES.convert, envelope)).status).toBe(200);
    const replay = await device.send(DEVICE_ROUTES.convert, envelope);
    expect((replay.body as { code: string }).code).toBe('REPLAYED_NONCE');

    const forged = report([{ legacyId: 'x', tag: 'regid.x', count: 1000 }]);
    forged.payload.licenses = [{ legacyId: 'x', tag: 'regid.x', count: 50_000 }];
    const mismatch = await device.send(DEVICE_ROUTES.convert, forged);
    expect((mismatch.body as { code: string }).code).toBe('SIGNATURE_MISMATCH');

    expect((await device.send(DEVICE_ROUTES.convert, report([]))).status).toBe(400);
    const twice = await device.send(DEVICE_ROUTES.convert, report([LEGACY[0], LEGACY[0]]));
    expect(twice.status).toBe(400);
    const termWithoutEnd = await device.send(
      DEVICE_ROUTES.convert,
      report([{ legacyId: 'y', tag: 'regid.y', count: 1, type: 'term' }]),
    );
    expect(termWithoutEnd.status).toBe(400);
  });
});
