import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, type AgentEvent, formatEvent, type Outcome } from '@smartlic/agent';
import type { Clock } from '@smartlic/protocol';
import { Command } from 'commander';
import { processClock, processClockRate } from '../../clock.js';
import { writeText } from '../../output.js';
import { agentOptions } from './device-context.js';

/**
 * Longest real time the daemon sleeps between looks at its timers, so that a host clock that
 * jumped (set forward, or a suspended machine resuming) is noticed soon.
 */
const MAX_NAP_MS = 10_000;
/** Shortest real nap, so that a timer due now cannot make the loop spin. */
const MIN_NAP_MS = 5;

const stamp = (clock: Clock): string => new Date(clock.now()).toISOString();

/**
 * `device run [--once]`: keeps the agent's timers going — registration retries, ID certificate
 * and authorization renewals and their retries, deadlines, the evaluation clock — printing every
 * event and outcome, until SIGINT or SIGTERM (then it exits 0 once the running step is saved).
 * It holds the state directory's writer lock all along: other commands that would change the
 * state are refused until it stops; `show license …` reads alongside it.
 * With SMARTLIC_DEV_CLOCK=1 and SMARTLIC_CLOCK_RATE=R it sleeps R times shorter, so months pass
 * in seconds. `--once`: run what is due now, then exit.
 */
export function runCommand(): Command {
  return new Command('run')
    .description("run the agent's timers until stopped (--once: what is due now, then exit)")
    .option('--once', 'run what is due now, then exit')
    .action(async (opts: { once?: boolean }, cmd: Command) => {
      // One clock for the agent and for the naps: two simulated clocks started apart would disagree.
      const clock = processClock();
      const rate = processClockRate();
      const print = (event: AgentEvent) =>
        writeText(process.stdout, `${new Date(event.at).toISOString()} ${formatEvent(event)}\n`);
      const agent = await Agent.open({ ...agentOptions(cmd, print), clock });
      const abort = new AbortController();
      const stop = () => abort.abort();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      try {
        if (!opts.once) {
          const speed = rate === 1 ? '' : ` (simulated clock, ${rate}× real time)`;
          process.stdout.write(`${stamp(clock)} Smart agent running on ${agent.stateDir}${speed}; stop with Ctrl-C.\n`);
        }
        do {
          for (const outcome of await agent.runDue()) printOutcome(clock, outcome);
          if (opts.once || abort.signal.aborted) break;
          await sleep(napMs(agent, clock, rate), undefined, { signal: abort.signal }).catch(() => {});
        } while (!abort.signal.aborted);
        if (!opts.once) process.stdout.write(`${stamp(clock)} Smart agent stopped; its state is saved.\n`);
      } finally {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        // Releases the state's writer lock: other commands may change the state again.
        await agent.close();
      }
    });
}

function printOutcome(clock: Clock, outcome: Outcome): void {
  writeText(process.stdout, `${stamp(clock)} ${outcome.action}: ${outcome.message}\n`);
}

/** Real time to sleep until the agent's next timer, on a clock running `rate` times real time. */
function napMs(agent: Agent, clock: Clock, rate: number): number {
  const next = agent.nextWakeAt();
  if (next === undefined) return MAX_NAP_MS;
  const real = Math.ceil((next - clock.now()) / rate);
  return Math.min(MAX_NAP_MS, Math.max(MIN_NAP_MS, real));
}
