import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { agentEvent } from '../events.js';
import { createAgentHarness } from '../testing/harness.js';
import { EVENT_LOG_FILE, EVENT_LOG_PREVIOUS_FILE, EventLog, formatEventLogLine, readEventLog } from './event-log.js';

const AT = Date.UTC(2026, 0, 1, 9, 0, 0);
const event = (i: number) => agentEvent('AUTH_RENEW_SUCCESS', AT + i * 1000, `renewal number ${i}`);

describe('the event log', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'smartlic-eventlog-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('appends each event as one JSON line and reads them back, oldest first', async () => {
    const log = new EventLog(dir);
    log.append(event(0));
    log.append(event(1));
    expect(await log.read()).toEqual([event(0), event(1)]);
    const lines = (await readFile(join(dir, EVENT_LOG_FILE), 'utf8')).trimEnd().split('\n');
    expect(JSON.parse(lines[1] ?? '')).toEqual(event(1));
    expect((await stat(join(dir, EVENT_LOG_FILE))).mode & 0o777).toBe(0o600);
    expect(formatEventLogLine(event(0))).toBe('2026-01-01T09:00:00Z %SMART_LIC-6-AUTH_RENEW_SUCCESS: renewal number 0');
  });

  it('stays within its bounds by rotating into a second file', async () => {
    const log = new EventLog(dir, { maxEntries: 50, maxBytes: 32 * 1024 });
    for (let i = 0; i < 1000; i++) log.append(event(i));
    const sizes = await Promise.all(
      [EVENT_LOG_FILE, EVENT_LOG_PREVIOUS_FILE].map(async (f) => (await stat(join(dir, f))).size),
    );
    expect(sizes[0]! + sizes[1]!).toBeLessThanOrEqual(32 * 1024);
    const kept = await log.read();
    expect(kept).toHaveLength(50);
    expect(kept.at(-1)).toEqual(event(999));
    expect(kept[0]).toEqual(event(950));
    expect(await readEventLog(dir, 3)).toEqual([event(997), event(998), event(999)]);
    expect(log.failures).toBe(0);
  });

  it('keeps the default bound of 1,000 entries and 256 KiB', async () => {
    const log = new EventLog(dir);
    for (let i = 0; i < 3000; i++) log.append(event(i));
    const kept = await log.read();
    expect(kept).toHaveLength(1000);
    expect(kept[0]).toEqual(event(2000));
    const sizes = await Promise.all(
      [EVENT_LOG_FILE, EVENT_LOG_PREVIOUS_FILE].map(async (f) => (await stat(join(dir, f))).size),
    );
    expect(sizes[0]! + sizes[1]!).toBeLessThanOrEqual(256 * 1024);
  });

  it('skips damaged lines (a write cut short by a crash)', async () => {
    const log = new EventLog(dir);
    log.append(event(0));
    await writeFile(join(dir, EVENT_LOG_FILE), `${await readFile(join(dir, EVENT_LOG_FILE), 'utf8')}{"type":"AUTH_RE`);
    const restarted = new EventLog(dir);
    restarted.append(event(1));
    restarted.append(event(2));
    expect(await restarted.read()).toEqual([event(0), event(1), event(2)]);
    expect(await readEventLog(join(dir, 'absent'))).toEqual([]);
  });

  it('never throws: a write that fails is counted and dropped', async () => {
    await writeFile(join(dir, 'file'), 'not a directory');
    const log = new EventLog(join(dir, 'file'));
    expect(() => log.append(event(0))).not.toThrow();
    expect(() => log.append(event(1))).not.toThrow();
    expect(log.failures).toBe(2);
  });
});

describe('the agent event log', () => {
  it('keeps every event across restarts, besides handing it to the host', async () => {
    const h = await createAgentHarness();
    try {
      const agent = await h.init();
      await agent.setDestination(h.fake.url);
      await agent.register(h.fake.createToken());
      const first = await agent.eventLog();
      expect(first.map((e) => e.name)).toEqual(h.eventNames());
      expect(first.map((e) => e.type)).toEqual(expect.arrayContaining(['AGENT_ENABLED', 'AGENT_REG_SUCCESS']));

      const reopened = await h.open();
      await reopened.deregister();
      const after = await reopened.eventLog();
      expect(after.slice(0, first.length)).toEqual(first);
      expect(after.at(-1)?.type).toBe('AGENT_DEREG_SUCCESS');
      expect(await reopened.eventLog(1)).toEqual([after.at(-1)]);
      expect(reopened.eventLogFailures).toBe(0);
    } finally {
      await h.close();
    }
  });

  it('writes nothing with eventLog: false', async () => {
    const h = await createAgentHarness();
    try {
      const { Agent } = await import('../agent.js');
      const agent = await Agent.init({ pid: 'C9300-24UX' }, h.options({ eventLog: false }));
      expect(h.eventNames()).toEqual(['%SMART_LIC-6-AGENT_ENABLED']);
      expect(await agent.eventLog()).toEqual([]);
    } finally {
      await h.close();
    }
  });
});
