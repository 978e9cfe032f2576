import { setTimeout as sleep } from 'node:timers/promises';
import { formatEvent } from '@smartlic/agent';
import { Command } from 'commander';
import { processClock, processClockRate } from '../../clock.js';
import { openDevice } from './device-context.js';

/** Longest real time the daemon sleeps between looks at its timers. */
const MAX_NAP_MS = 60_000;

/** `device run [--once]`: keeps the agent's timers going (or runs what is due now and exits). */
export function runCommand(): Command {
  return new Command('run')
    .description("run the agent's timers until stopped (--once: what is due now, then exit)")
    .option('--once', 'run what is due now, then exit')
    .action(async (opts: { once?: boolean }, cmd: Command) => {
      const agent = await openDevice(cmd, (event) => process.stdout.write(`${formatEvent(event)}\n`));
      const clock = processClock();
      const rate = processClockRate();
      const abort = new AbortController();
      const stop = () => abort.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      do {
        for (const outcome of await agent.runDue()) {
          process.stdout.write(`${new Date(clock.now()).toISOString()} ${outcome.action}: ${outcome.message}\n`);
        }
        if (opts.once) break;
        const next = agent.nextWakeAt();
        const realWait = next === undefined ? MAX_NAP_MS : Math.max(0, (next - clock.now()) / rate);
        await sleep(Math.min(MAX_NAP_MS, Math.ceil(realWait)), undefined, { signal: abort.signal }).catch(() => {});
      } while (!abort.signal.aborted);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    });
}
