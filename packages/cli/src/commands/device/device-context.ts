import { resolve } from 'node:path';
import { Agent, type AgentEvent, type AgentOptions } from '@smartlic/agent';
import type { Command } from 'commander';
import { processClock } from '../../clock.js';

/** The state directory named by `device --state`, or $SMARTLIC_DEVICE_STATE, or ./device-state. */
export function stateDirOf(command: Command): string {
  const flags = command.optsWithGlobals<{ state?: string }>();
  return resolve(flags.state ?? process.env.SMARTLIC_DEVICE_STATE ?? './device-state');
}

/** The command as typed, e.g. `smartlic device run`: what another process refused by the state lock is told. */
function commandName(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Options every device command opens its agent with. */
export function agentOptions(command: Command, onEvent?: (event: AgentEvent) => void): AgentOptions {
  return {
    stateDir: stateDirOf(command),
    clock: processClock(),
    processName: commandName(command),
    ...(onEvent ? { onEvent } : {}),
  };
}

/**
 * Opens the device of this command's state directory to change it, holding its writer lock until
 * the process ends: refused (`STATE_LOCKED`) while another process, such as `device run`, holds it
 * (after waiting up to 2 s, for a short command such as `show` to end).
 */
export function openDevice(command: Command, onEvent?: (event: AgentEvent) => void): Promise<Agent> {
  return Agent.open(agentOptions(command, onEvent));
}

/**
 * Opens the device to look at it: to write when it can (so that `show` keeps its clock reading),
 * read-only while another process holds the writer lock (that process keeps time itself).
 */
export async function openDeviceToRead(command: Command): Promise<Agent> {
  try {
    // No waiting: a holder that is not gone at once is a daemon, which keeps time itself.
    return await Agent.open({ ...agentOptions(command), lockWaitMs: 0 });
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'STATE_LOCKED') throw error;
    return Agent.open({ ...agentOptions(command), readOnly: true });
  }
}
