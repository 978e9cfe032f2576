import { describe, expect, it } from 'vitest';
import { formatStatus } from '../status/format-status.js';
import { createAgentHarness } from '../testing/harness.js';
import { isSatelliteUrl, redactPassword, transportType } from './transport-type.js';

describe('transport types', () => {
  it('recognises a satellite URL by its /SmartTransport path (seed 002)', () => {
    expect(isSatelliteUrl('https://sat.example.com:8443/SmartTransport')).toBe(true);
    expect(isSatelliteUrl('https://sat.example.com/smarttransport/')).toBe(true);
    expect(isSatelliteUrl('https://licensing.example.com')).toBe(false);
    expect(isSatelliteUrl('https://x/SmartTransport/more')).toBe(false);
    expect(isSatelliteUrl('not a url')).toBe(false);
    expect(transportType(undefined)).toBe('none');
    expect(transportType({ url: 'https://a' })).toBe('direct');
    expect(transportType({ url: 'https://a', proxy: 'http://p:3128' })).toBe('proxy');
    expect(transportType({ url: 'https://a/SmartTransport', proxy: 'http://p:3128' })).toBe('satellite');
  });

  it('never shows a proxy password', () => {
    expect(redactPassword('http://lic:s3cret@proxy:3128')).toBe('http://lic:*****@proxy:3128');
    expect(redactPassword('http://proxy:3128')).toBe('http://proxy:3128');
    expect(redactPassword('http://proxy:3128/')).toBe('http://proxy:3128/');
  });

  it('registers through a satellite URL, messages going below its path', async () => {
    const h = await createAgentHarness();
    try {
      const agent = await h.init();
      const satellite = `${h.fake.url}/SmartTransport`;
      expect(await agent.setDestination(satellite)).toEqual({ pinnedFingerprint: h.fake.rootFingerprint });
      expect(await agent.register(h.fake.createToken())).toMatchObject({ ok: true });
      const status = agent.status();
      expect(status.transport).toMatchObject({ type: 'satellite', url: satellite, proxy: null });
      expect(formatStatus(status)).toContain(`Type: Satellite\n  URL: ${satellite}`);
    } finally {
      await h.close();
    }
  });
});
