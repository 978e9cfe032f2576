import { type Clock, clockFromEnv } from '@smartlic/protocol';
import { CliError } from './output.js';

/** The process clock: the real one, or the simulated one of SPEC §9 when SMARTLIC_DEV_CLOCK=1. */
export function processClock(): Clock {
  try {
    return clockFromEnv(process.env);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
}

/** How many times faster than real time the process clock runs. */
export function processClockRate(): number {
  return process.env.SMARTLIC_DEV_CLOCK === '1' && process.env.SMARTLIC_CLOCK_RATE
    ? Number(process.env.SMARTLIC_CLOCK_RATE)
    : 1;
}
