import { afterAll, beforeAll, expect, it } from 'vitest';
import { AdminClient } from '../test-support/admin-client.js';
import { describeEachEngine } from '../test-support/postgres.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

interface Created {
  apiKey: string;
}
interface Refusal {
  code: string;
  message: string;
}

/** A transfer changes its destination too: a role on the source VA alone does not allow it. */
describeEachEngine('transfers need rights on the destination VA', (engine) => {
  let t: TestServer;
  let accountId: string;
  let labId: string;
  let prodId: string;
  let labUser: AdminClient;
  let accountUser: AdminClient;
  const TAG = 'regid.2026-01.com.example.A';

  beforeAll(async () => {
    t = await startTestServer({ engine });
    accountId = (await t.admin.createAccount('Acme')).id;
    labId = (await t.admin.createVa(accountId, 'Lab')).id;
    prodId = (await t.admin.createVa(accountId, 'Prod')).id;
    await t.admin.addLicense(labId, { tag: TAG, count: 10 });
    const lab = await t.admin.ok<Created>('POST', '/api/v1/users', {
      email: 'lab@acme.example',
      accountId,
      role: 'user',
      vaId: labId,
    });
    const whole = await t.admin.ok<Created>('POST', '/api/v1/users', {
      email: 'ops@acme.example',
      accountId,
      role: 'user',
    });
    labUser = new AdminClient(t.url, lab.apiKey);
    accountUser = new AdminClient(t.url, whole.apiKey);
  });
  afterAll(() => t.dispose());

  it('refuses a VA user moving licenses into a VA where it has no role, as if that VA did not exist', async () => {
    const refused = await labUser.request<Refusal>('POST', `/api/v1/virtual-accounts/${labId}/licenses/transfer`, {
      tag: TAG,
      count: 2,
      toVaId: prodId,
    });
    expect(refused.status).toBe(404);
    expect(refused.body.message).toBe(`Virtual account '${prodId}' was not found, or you are not allowed to see it.`);
    const rows = await t.admin.listLicenses(labId);
    expect(rows.find((r) => r.tag === TAG)?.quantity).toBe(10);
    // Recorded where the refused user belongs (Lab), not in the VA it tried to reach.
    const atHome = await t.admin.ok<{ items: { type: string }[] }>('GET', `/api/v1/virtual-accounts/${labId}/events`);
    expect(atHome.items.some((e) => e.type === 'access.denied')).toBe(true);
    const there = await t.admin.ok<{ items: { type: string }[] }>('GET', `/api/v1/virtual-accounts/${prodId}/events`);
    expect(there.items.some((e) => e.type === 'access.denied')).toBe(false);
  });

  it('allows a user with rights on both VAs', async () => {
    const moved = await accountUser.request('POST', `/api/v1/virtual-accounts/${labId}/licenses/transfer`, {
      tag: TAG,
      count: 2,
      toVaId: prodId,
    });
    expect(moved.status).toBeLessThan(300);
    expect((await t.admin.listLicenses(prodId)).find((r) => r.tag === TAG)?.quantity).toBe(2);
  });
});
