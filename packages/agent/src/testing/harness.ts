import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@smartlic/protocol';
import { Agent, type AgentOptions } from '../agent.js';
import type { AgentEvent } from '../events.js';
import type { DeviceIdentity } from '../state/agent-state.js';
import { FakeAuthority, type FakeAuthorityOptions } from './fake-authority.js';

/** A device state directory, a manual clock shared with a fake authority, and the events seen. */
export interface AgentHarness {
  clock: ManualClock;
  fake: FakeAuthority;
  /** A fresh state directory (removed by `close`). */
  dir: string;
  events: AgentEvent[];
  /** Agent options for `dir` with the shared clock, event capture and no jitter (`random: () => 0`). */
  options(overrides?: Partial<AgentOptions>): AgentOptions;
  /** `Agent.init` in `dir` (PID `C9300-24UX`, SN `FCW2134L0RN` unless given). */
  init(identity?: Partial<DeviceIdentity>): Promise<Agent>;
  /**
   * `Agent.open` in `dir`, as after a restart: the agents this harness opened before are closed
   * first (they hold the state directory's writer lock).
   */
  open(): Promise<Agent>;
  /** `Agent.open` in `dir`, `readOnly`: as another process looking while the agent runs. */
  openReadOnly(): Promise<Agent>;
  /** Closes the agents this harness opened (`init`, `open`), releasing the writer lock. */
  closeAgents(): Promise<void>;
  /** Names of the events seen, e.g. `%SMART_LIC-6-AGENT_REG_SUCCESS`. */
  eventNames(): string[];
  close(): Promise<void>;
}

/** Builds a harness: a fake authority on 127.0.0.1 and a temp state dir, both on one ManualClock. */
export async function createAgentHarness(
  options: { fake?: FakeAuthorityOptions; start?: number } = {},
): Promise<AgentHarness> {
  const clock = new ManualClock(options.start ?? Date.UTC(2026, 0, 1, 9, 0, 0));
  const fake = await FakeAuthority.start({ clock, ...options.fake });
  const dir = join(await mkdtemp(join(tmpdir(), 'smartlic-agent-')), 'device');
  const events: AgentEvent[] = [];
  const agentOptions = (overrides: Partial<AgentOptions> = {}): AgentOptions => ({
    stateDir: dir,
    clock,
    onEvent: (event) => events.push(event),
    requestTimeoutMs: 5_000,
    random: () => 0,
    ...overrides,
  });
  const opened: Agent[] = [];
  const track = async (agent: Promise<Agent>): Promise<Agent> => {
    opened.push(await agent);
    return opened.at(-1) as Agent;
  };
  const closeAgents = async (): Promise<void> => {
    for (const agent of opened.splice(0)) await agent.close();
  };
  return {
    clock,
    fake,
    dir,
    events,
    options: agentOptions,
    init: (identity = {}) => track(Agent.init({ pid: 'C9300-24UX', sn: 'FCW2134L0RN', ...identity }, agentOptions())),
    open: async () => {
      await closeAgents();
      return track(Agent.open(agentOptions()));
    },
    openReadOnly: () => Agent.open({ ...agentOptions(), readOnly: true }),
    closeAgents,
    eventNames: () => events.map((e) => e.name),
    close: async () => {
      await closeAgents();
      await fake.close();
      await rm(join(dir, '..'), { recursive: true, force: true });
    },
  };
}
