import { resolve } from 'node:path';
import { Agent, type AgentEvent, type AgentOptions } from '@smartlic/agent';
import type { Command } from 'commander';
import { processClock } from '../../clock.js';

/** The state directory named by `device --state`, or $SMARTLIC_DEVICE_STATE, or ./device-state. */
export function stateDirOf(command: Command): string {
  const flags = command.optsWithGlobals<{ state?: string }>();
  return resolve(flags.state ?? process.env.SMARTLIC_DEVICE_STATE ?? './device-state');
}

/** Options every device command opens its agent with. */
export function agentOptions(command: Command, onEvent?: (event: AgentEvent) => void): AgentOptions {
  return { stateDir: stateDirOf(command), clock: processClock(), ...(onEvent ? { onEvent } : {}) };
}

/** Opens the device of this command's state directory. */
export function openDevice(command: Command, onEvent?: (event: AgentEvent) => void): Promise<Agent> {
  return Agent.open(agentOptions(command, onEvent));
}
