import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createInProcessJobLock, type JobLock } from './job-lock.js';
import { type BackgroundJob, createJobRunner, type JobRunner } from './job-runner.js';

describe('the background job runner', () => {
  let runner: JobRunner | undefined;
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(async () => {
    const stopping = runner?.stop();
    await vi.runAllTimersAsync(); // lets a run in progress end
    await stopping;
    runner = undefined;
    vi.useRealTimers();
  });

  const counting = (name: string, intervalMs: number, body: () => Promise<unknown> = async () => undefined) => {
    const job = { name, intervalMs, runs: 0, run: async () => undefined as unknown };
    job.run = async () => {
      job.runs += 1;
      return body();
    };
    return job satisfies BackgroundJob;
  };

  it('runs every job first after the start delay, then each at its own interval', async () => {
    const hourly = counting('lifecycle', 3_600_000);
    const often = counting('webhook-delivery', 10_000);
    runner = createJobRunner({ jobs: [hourly, often], lock: createInProcessJobLock(), startDelayMs: 2_000 });
    runner.start();
    await vi.advanceTimersByTimeAsync(1_999);
    expect([hourly.runs, often.runs]).toEqual([0, 0]);
    await vi.advanceTimersByTimeAsync(1);
    expect([hourly.runs, often.runs]).toEqual([1, 1]);
    await vi.advanceTimersByTimeAsync(60_000);
    expect([hourly.runs, often.runs]).toEqual([1, 7]);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(hourly.runs).toBe(2);
  });

  it('never overlaps runs of one job: the next comes one interval after the previous ended', async () => {
    let active = 0;
    let most = 0;
    const slow = counting('slow', 100, async () => {
      active += 1;
      most = Math.max(most, active);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      active -= 1;
    });
    runner = createJobRunner({ jobs: [slow], lock: createInProcessJobLock(), startDelayMs: 0 });
    runner.start();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(most).toBe(1);
    expect(slow.runs).toBe(5); // each run takes 1 000 ms, then 100 ms of rest
  });

  it('logs a failed run, counts it, and tries again at the next interval', async () => {
    const warn = vi.fn();
    const outcomes: string[] = [];
    let fail = true;
    const flaky = counting('flaky', 1_000, async () => {
      if (fail) throw new Error('database away');
    });
    runner = createJobRunner({
      jobs: [flaky],
      lock: createInProcessJobLock(),
      startDelayMs: 0,
      logger: { warn } as never,
      onRun: (job, outcome) => outcomes.push(`${job}:${outcome}`),
    });
    runner.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(outcomes).toEqual(['flaky:failed']);
    expect(warn).toHaveBeenCalledWith(expect.objectContaining({ job: 'flaky' }), expect.stringMatching(/will retry/));
    fail = false;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(outcomes).toEqual(['flaky:failed', 'flaky:ok']);
  });

  it('skips a run whose lock another holder has', async () => {
    const outcomes: string[] = [];
    const taken: JobLock = { withLock: async () => ({ ran: false }) };
    const job = counting('lifecycle', 1_000);
    runner = createJobRunner({
      jobs: [job],
      lock: taken,
      startDelayMs: 0,
      onRun: (name, outcome) => outcomes.push(`${name}:${outcome}`),
    });
    runner.start();
    await vi.advanceTimersByTimeAsync(1_500);
    expect(job.runs).toBe(0);
    expect(outcomes).toEqual(['lifecycle:skipped', 'lifecycle:skipped']);
  });

  it('stop waits for the run in progress and no run starts after it', async () => {
    let finished = false;
    const job = counting('slow', 10, async () => {
      await new Promise((resolve) => setTimeout(resolve, 500));
      finished = true;
    });
    const active = createJobRunner({ jobs: [job], lock: createInProcessJobLock(), startDelayMs: 0 });
    active.start();
    await vi.advanceTimersByTimeAsync(100);
    const stopping = active.stop();
    await vi.advanceTimersByTimeAsync(500);
    await stopping;
    expect(finished).toBe(true);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(job.runs).toBe(1);
  });

  it('starts nothing before start, and nothing on a start after stop', async () => {
    const job = counting('lifecycle', 1_000);
    const idle = createJobRunner({ jobs: [job], lock: createInProcessJobLock(), startDelayMs: 0 });
    await vi.advanceTimersByTimeAsync(5_000);
    await idle.stop();
    idle.start();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(job.runs).toBe(0);
  });
});
