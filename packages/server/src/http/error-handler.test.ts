import { Writable } from 'node:stream';
import { SmartlicError } from '@smartlic/protocol';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import type { BusyLogTimers } from './busy-log.js';
import { answerFor, installErrorHandlers } from './error-handler.js';

/** Timers fired by hand. */
function manualTimers(): BusyLogTimers & { fire(): void; pending(): number } {
  let next: Array<{ fn: () => void; handle: object }> = [];
  return {
    setTimeout(fn) {
      const handle = {};
      next.push({ fn, handle });
      return handle;
    },
    clearTimeout(handle) {
      next = next.filter((t) => t.handle !== handle);
    },
    fire() {
      const due = next;
      next = [];
      for (const t of due) t.fn();
    },
    pending: () => next.length,
  };
}

async function busyApp(timers: BusyLogTimers) {
  const lines: Array<{ level: number; msg: string; code?: string; refused?: number }> = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const app = Fastify({ loggerInstance: pino({ level: 'info' }, stream) as FastifyBaseLogger });
  installErrorHandlers(app, { busyLogWindowMs: 10_000, busyLogTimers: timers });
  app.get('/busy', async () => {
    throw new SmartlicError('SERVER_BUSY', { context: { queued: 10_000 } });
  });
  const busyLines = () => lines.filter((l) => l.code === 'SERVER_BUSY' || /busy/i.test(l.msg));
  return { app, lines, busyLines };
}

describe('error handler', () => {
  it('answers a full queue SERVER_BUSY at WARN, not ERROR', () => {
    const answer = answerFor(new SmartlicError('SERVER_BUSY'), 'r1');
    expect(answer).toMatchObject({ status: 503, level: 'warn', body: { code: 'SERVER_BUSY' } });
    expect(answerFor(new Error('boom'), 'r2').level).toBe('error');
  });

  it('logs a burst of SERVER_BUSY once at WARN, then one summary line per window', async () => {
    const timers = manualTimers();
    const { app, lines, busyLines } = await busyApp(timers);
    for (let i = 0; i < 50; i++) {
      const res = await app.inject({ method: 'GET', url: '/busy' });
      expect(res.statusCode).toBe(503);
      expect(res.json()).toMatchObject({ code: 'SERVER_BUSY' });
    }
    expect(busyLines()).toHaveLength(1);
    expect(busyLines()[0]).toMatchObject({ level: 40, code: 'SERVER_BUSY' });
    expect(lines.some((l) => l.level >= 50)).toBe(false);

    timers.fire(); // the window ends: 49 more were refused
    expect(busyLines()).toHaveLength(2);
    expect(busyLines()[1]).toMatchObject({ level: 40, refused: 49 });

    timers.fire(); // a quiet window ends the burst
    expect(timers.pending()).toBe(0);
    expect(busyLines()).toHaveLength(2);

    await app.inject({ method: 'GET', url: '/busy' }); // a new burst is logged at once
    await app.inject({ method: 'GET', url: '/busy' });
    expect(busyLines()).toHaveLength(3);
    await app.close(); // closing sums up what is still open
    expect(busyLines()).toHaveLength(4);
    expect(busyLines()[3]).toMatchObject({ refused: 1 });
    expect(lines.some((l) => l.level >= 50)).toBe(false);
  });
});
