import { afterEach, describe, expect, it } from 'vitest';
import { type AgentHarness, createAgentHarness } from '../testing/harness.js';

describe('reportLegacyLicenses (device-led conversion)', () => {
  let h: AgentHarness | undefined;
  afterEach(async () => h?.close());

  it('refuses, without sending anything, when the device is not registered', async () => {
    h = await createAgentHarness();
    const agent = await h.init();
    const report = await agent.reportLegacyLicenses([{ legacyId: 'PAK-1:ipbase', tag: 'regid.ipbase', count: 1 }]);
    expect(report).toEqual({
      ok: false,
      message: 'The device is not registered; register it before converting licenses.',
    });
    expect(h.fake.requests).toHaveLength(0);
  });
});
