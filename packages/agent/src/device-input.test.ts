import { afterEach, describe, expect, it } from 'vitest';
import { type AgentHarness, createAgentHarness } from './testing/harness.js';

// The agent holds its own input to the rules the authority applies (protocol field-rules.ts),
// so that a product learns of a bad tag, host name or date locally, without a round trip.
describe('device input checked on the device as the authority checks it', () => {
  let h: AgentHarness | undefined;
  afterEach(async () => h?.close());

  it('refuses host names and serial numbers the authority would refuse, and keeps dashed, dotted ones', async () => {
    h = await createAgentHarness();
    await expect(h.init({ hostname: 'sw1\u001b[31m' })).rejects.toThrow(/hostname must be a host name/);
    await expect(h.init({ hostname: 'sw 1' })).rejects.toThrow(/hostname/);
    await expect(h.init({ sn: 'FCW 2134' })).rejects.toThrow(
      /serial number must be 1–64 characters of printable ASCII/,
    );
    await expect(h.init({ pid: 'C9300\u0000' })).rejects.toThrow(/PID/);
    const agent = await h.init({ hostname: 'core-sw1.lab_2.example.com' });
    expect((await agent.readStatus()).identity).toMatchObject({ hostname: 'core-sw1.lab_2.example.com' });
  });

  it('refuses tags with control characters or formulas before storing them, and takes tags with spaces', async () => {
    h = await createAgentHarness();
    const agent = await h.init();
    for (const tag of ['regid.x\u0000', 'regid.\u001b[2Jx', '=HYPERLINK("http://x","y")', ' regid.x']) {
      expect(await agent.use(tag, 1)).toMatchObject({ ok: false, code: 'BAD_REQUEST' });
    }
    expect((await agent.use('C9500 32C NW Advantage', 1)).ok).toBe(true);
    expect((await agent.readStatus()).usage.map((u) => u.tag)).toEqual(['C9500 32C NW Advantage']);
  });

  it('refuses, without sending it, a conversion whose end no date can express', async () => {
    h = await createAgentHarness();
    const agent = await h.init();
    await agent.setDestination(h.fake.url);
    expect((await agent.register(h.fake.createToken())).ok).toBe(true);
    const sent = h.fake.requests.length;
    const report = await agent.reportLegacyLicenses([
      { legacyId: 'PAK-1', tag: 'regid.x', count: 1, type: 'term', endsAt: 8_640_000_000_000_001 },
    ]);
    expect(report.ok).toBe(false);
    expect(report.message).toMatch(/licenses\[0\]\.endsAt: expected a date from 2000-01-01 to 9999-12-31/);
    expect(h.fake.requests).toHaveLength(sent);
  });
});
