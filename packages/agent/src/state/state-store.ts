import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, SmartlicError } from '@smartlic/protocol';
import { type DeviceKey, deviceKeyFromPem } from '../device-key.js';
import type { AgentState } from './agent-state.js';
import { renameDurably, writeFileAtomic } from './atomic-file.js';
import { decodeState, encodeState } from './state-codec.js';

/** File names inside the state directory. */
export const STATE_FILES = {
  state: 'state.json',
  key: 'device-key.pem',
  /** A new device key written before the state that names it; promoted once that state is saved. */
  stagedKey: 'device-key.next.pem',
} as const;

/**
 * The agent's state directory: `state.json` and the device key, both 0600, in a 0700 directory,
 * every write atomic. `state.json` names the key by fingerprint, so replacing the key is crash
 * safe: stage the new key, save the state (the commit point), then promote the staged key.
 */
export class StateStore {
  constructor(readonly dir: string) {}

  private path(name: keyof typeof STATE_FILES): string {
    return join(this.dir, STATE_FILES[name]);
  }

  /** True when a state has been initialised here. */
  async exists(): Promise<boolean> {
    return (await readOptional(this.path('state'))) !== undefined;
  }

  /** Creates the directory (0700), the device key and the first state. */
  async create(state: AgentState, key: DeviceKey): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700);
    await writeFileAtomic(this.path('key'), key.pem);
    await rm(this.path('stagedKey'), { force: true });
    await this.save(state);
  }

  /** Loads the state and its device key, finishing a key replacement a crash interrupted. */
  async load(): Promise<{ state: AgentState; key: DeviceKey }> {
    const file = this.path('state');
    const text = await readOptional(file);
    if (text === undefined) throw new SmartlicError('NOT_INITIALISED', { context: { dir: this.dir } });
    const state = decodeState(text, file);
    const key = await this.readKey('key');
    if (key?.fingerprint === state.deviceKeyFingerprint) {
      await rm(this.path('stagedKey'), { force: true });
      return { state, key };
    }
    const staged = await this.readKey('stagedKey');
    if (staged?.fingerprint === state.deviceKeyFingerprint) {
      await this.promoteStagedKey();
      return { state, key: staged };
    }
    throw new SmartlicError('STATE_CORRUPT', {
      message: `${errorMessage('STATE_CORRUPT')} (${this.path('key')}: the device key is missing or does not belong to this state)`,
      context: { dir: this.dir },
    });
  }

  /** Saves the state atomically. */
  async save(state: AgentState): Promise<void> {
    await writeFileAtomic(this.path('state'), encodeState(state));
  }

  /** Writes a new device key beside the current one, to be promoted after the state naming it is saved. */
  async stageKey(key: DeviceKey): Promise<void> {
    await writeFileAtomic(this.path('stagedKey'), key.pem);
  }

  /** Makes the staged key the device key. */
  async promoteStagedKey(): Promise<void> {
    await renameDurably(this.path('stagedKey'), this.path('key'));
  }

  /** Forgets a staged key that will not be used. */
  async discardStagedKey(): Promise<void> {
    await rm(this.path('stagedKey'), { force: true });
  }

  private async readKey(name: 'key' | 'stagedKey'): Promise<DeviceKey | undefined> {
    const pem = await readOptional(this.path(name));
    if (pem === undefined) return undefined;
    try {
      return deviceKeyFromPem(pem);
    } catch {
      return undefined;
    }
  }
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
