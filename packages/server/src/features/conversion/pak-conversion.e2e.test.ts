import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../../test-support/postgres.js';
import { startTestServer, type TestServer } from '../../test-support/test-server.js';

interface PakBody {
  id: string;
  number: string;
  partialFulfilment: boolean;
  status: string;
  skus: Array<{ sku: string; tag: string; quantity: number; converted: number; convertible: number }>;
}
interface ConversionBody {
  kind: string;
  pakNumber: string | null;
  sku: string | null;
  vaId: string;
  tag: string;
  quantity: number;
  actor: string;
}

const TAG = 'regid.2014-08.com.cisco.CUSP-5,1.0_8f106f12';

describeEachEngine('PAK conversion', (engine) => {
  let t: TestServer;
  let accountId: string;
  let vaId: string;

  beforeAll(async () => {
    t = await startTestServer({ engine });
    accountId = (await t.admin.createAccount('Conversions', 'conversions.example.com')).id;
    vaId = (await t.admin.createVa(accountId, 'Lab')).id;
  });
  afterAll(async () => t.dispose());

  const importPak = (number: string, partialFulfilment: boolean, quantity = 25) =>
    t.admin.ok<PakBody>('POST', `/api/v1/accounts/${accountId}/paks`, {
      number,
      orderNumber: `SO-${number}`,
      partialFulfilment,
      skus: [{ sku: 'CUSP-5-LIC', tag: TAG, name: 'ICV CUSP-5 calls/sec', quantity, type: 'perpetual' }],
    });

  it('converts 10 of a 25-license PAK with partial fulfilment, leaving 15 convertible', async () => {
    const pak = await importPak('PAK-PARTIAL', true);
    expect(pak.skus[0]).toMatchObject({ quantity: 25, converted: 0, convertible: 25 });

    const after = await t.admin.ok<PakBody>(
      'POST',
      `/api/v1/paks/${pak.id}/convert`,
      { vaId, lines: [{ sku: 'CUSP-5-LIC', quantity: 10 }] },
      200,
    );
    expect(after.status).toBe('PARTIALLY_CONVERTED');
    expect(after.skus[0]).toMatchObject({ converted: 10, convertible: 15 });

    const listed = await t.admin.ok<PakBody[]>('GET', `/api/v1/accounts/${accountId}/paks`);
    expect(listed.find((p) => p.id === pak.id)?.skus[0]?.convertible).toBe(15);
    expect((await t.admin.listLicenses(vaId)).find((l) => l.tag === TAG)?.quantity).toBe(10);

    const tooMany = await t.admin.request('POST', `/api/v1/paks/${pak.id}/convert`, {
      vaId,
      lines: [{ sku: 'CUSP-5-LIC', quantity: 16 }],
    });
    expect(tooMany.status).toBe(409);
  });

  it('converts a non-partial PAK whole or not at all', async () => {
    t.clock.advance(60_000);
    const pak = await importPak('PAK-WHOLE', false, 4);
    const partial = await t.admin.request<{ code: string; message: string }>('POST', `/api/v1/paks/${pak.id}/convert`, {
      vaId,
      lines: [{ sku: 'CUSP-5-LIC', quantity: 3 }],
    });
    expect(partial.status).toBe(409);
    expect(partial.body.message).toMatch(/does not allow partial fulfilment/);
    expect((await t.admin.listLicenses(vaId)).find((l) => l.tag === TAG)?.quantity).toBe(10);

    const whole = await t.admin.ok<PakBody>('POST', `/api/v1/paks/${pak.id}/convert`, { vaId }, 200);
    expect(whole.status).toBe('CONVERTED');
    expect(whole.skus[0]).toMatchObject({ converted: 4, convertible: 0 });
    expect((await t.admin.listLicenses(vaId)).find((l) => l.tag === TAG)?.quantity).toBe(14);

    const again = await t.admin.request('POST', `/api/v1/paks/${pak.id}/convert`, { vaId });
    expect(again.status).toBe(409);
  });

  it('keeps both conversions in the history and records events', async () => {
    const history = await t.admin.ok<ConversionBody[]>('GET', `/api/v1/accounts/${accountId}/conversions`);
    expect(history.map((h) => [h.kind, h.pakNumber, h.quantity, h.vaId])).toEqual([
      ['pak', 'PAK-PARTIAL', 10, vaId],
      ['pak', 'PAK-WHOLE', 4, vaId],
    ]);
    expect(history[0]?.actor).toMatch(/^key:/);
  });

  it('refuses a duplicate PAK number, an unknown SKU and a VA of another account', async () => {
    expect(
      (
        await t.admin.request('POST', `/api/v1/accounts/${accountId}/paks`, {
          number: 'PAK-WHOLE',
          skus: [{ sku: 'A', tag: 'a', quantity: 1 }],
        })
      ).status,
    ).toBe(409);
    const pak = await importPak('PAK-OTHER', true, 2);
    const unknownSku = await t.admin.request('POST', `/api/v1/paks/${pak.id}/convert`, {
      vaId,
      lines: [{ sku: 'NOPE', quantity: 1 }],
    });
    expect(unknownSku.status).toBe(400);
    const other = await t.admin.createAccount('Other', 'other-conv.example.com');
    const otherVa = await t.admin.createVa(other.id, 'Elsewhere');
    expect((await t.admin.request('POST', `/api/v1/paks/${pak.id}/convert`, { vaId: otherVa.id })).status).toBe(404);
    expect(
      (
        await t.admin.request('POST', `/api/v1/accounts/${accountId}/paks`, {
          number: 'X',
          skus: [{ sku: 'T', tag: 't', quantity: 1, type: 'term' }],
        })
      ).status,
    ).toBe(400);
  });
});
