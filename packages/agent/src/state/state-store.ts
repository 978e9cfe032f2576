import { chmod, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { errorMessage, SmartlicError } from '@smartlic/protocol/core';
import { writeFileAtomic } from '@smartlic/protocol/fs';
import { type DeviceKey, deviceKeyFromPem } from '../device-key.js';
import type { AgentState } from './agent-state.js';
import { readOptional, removeStaleTempFiles, renameDurably } from './atomic-file.js';
import { decodeState, encodeState, STATE_RECOVERY_HINT, verifyStateFile } from './state-codec.js';
import { stateMacKey } from './state-mac.js';

/** File names inside the state directory. */
export const STATE_FILES = {
  state: 'state.json',
  key: 'device-key.pem',
  /** A new device key written before the state that names it; promoted once that state is saved. */
  stagedKey: 'device-key.next.pem',
} as const;

/**
 * The agent's state directory: `state.json` and the device key, both 0600, in a 0700 directory,
 * every write atomic. `state.json` names the key by fingerprint and carries an HMAC-SHA256 under a
 * key derived from that device key, so a truncated, damaged or hand-edited file is refused.
 * Replacing the key is crash safe: stage the new key, save the state naming it (MAC'd with it:
 * the commit point), then promote the staged key.
 */
export class StateStore {
  /** MAC keys of the device keys this store has read or written, by fingerprint. */
  private readonly macKeys = new Map<string, Buffer>();

  constructor(readonly dir: string) {}

  private path(name: keyof typeof STATE_FILES): string {
    return join(this.dir, STATE_FILES[name]);
  }

  /** True when a state has been initialised here. */
  async exists(): Promise<boolean> {
    return (await readOptional(this.path('state'))) !== undefined;
  }

  /**
   * Refuses to (re)create a state where a device key is left without one: its state was removed,
   * and creating a new one would hand out a fresh evaluation period.
   */
  async assertNoOrphanKey(): Promise<void> {
    if ((await readOptional(this.path('key'))) === undefined) return;
    throw this.stateMissing();
  }

  /** Creates the directory (0700), the device key and the first state. */
  async create(state: AgentState, key: DeviceKey): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    await chmod(this.dir, 0o700);
    await writeFileAtomic(this.path('key'), key.pem);
    await rm(this.path('stagedKey'), { force: true });
    this.remember(key);
    await this.save(state);
  }

  /**
   * Loads the state and its device key, checks the state's MAC, and finishes a key replacement a
   * crash interrupted. Temporary files left by a process killed mid-write are removed. `readOnly`:
   * changes nothing on disk (no clean-up, no key promotion), as another process may be writing.
   */
  async load(options: { readOnly?: boolean } = {}): Promise<{ state: AgentState; key: DeviceKey }> {
    const readOnly = options.readOnly === true;
    const file = this.path('state');
    const text = await readOptional(file);
    if (text === undefined) {
      if ((await readOptional(this.path('key'))) !== undefined) throw this.stateMissing();
      throw new SmartlicError('NOT_INITIALISED', { context: { dir: this.dir } });
    }
    if (!readOnly) await removeStaleTempFiles(this.dir);
    const read = decodeState(text, file);
    const named = read.state.deviceKeyFingerprint;
    const key = await this.readKey('key');
    if (key?.fingerprint === named) {
      const state = verifyStateFile(read, this.remember(key), file);
      if (!readOnly) await rm(this.path('stagedKey'), { force: true });
      return { state, key };
    }
    const staged = await this.readKey('stagedKey');
    if (staged?.fingerprint === named) {
      const state = verifyStateFile(read, this.remember(staged), file);
      if (!readOnly) await this.promoteStagedKey();
      return { state, key: staged };
    }
    throw new SmartlicError('STATE_CORRUPT', {
      message: `${errorMessage('STATE_CORRUPT')} (${this.path('key')}: the device key is missing or does not belong to this state) ${STATE_RECOVERY_HINT}`,
      context: { dir: this.dir },
    });
  }

  /** Saves the state atomically, MAC'd with the device key it names (which this store must have seen). */
  async save(state: AgentState): Promise<void> {
    const macKey = this.macKeys.get(state.deviceKeyFingerprint);
    if (!macKey) throw new Error(`No device key ${state.deviceKeyFingerprint} is known to sign the state with`);
    await writeFileAtomic(this.path('state'), encodeState(state, macKey));
  }

  /** Writes a new device key beside the current one, to be promoted after the state naming it is saved. */
  async stageKey(key: DeviceKey): Promise<void> {
    await writeFileAtomic(this.path('stagedKey'), key.pem);
    this.remember(key);
  }

  /** Keeps the MAC key of `key` for saving states that name it. */
  private remember(key: DeviceKey): Buffer {
    let macKey = this.macKeys.get(key.fingerprint);
    if (!macKey) {
      macKey = stateMacKey(key);
      this.macKeys.set(key.fingerprint, macKey);
    }
    return macKey;
  }

  private stateMissing(): SmartlicError {
    return new SmartlicError('STATE_CORRUPT', {
      message:
        `${errorMessage('STATE_CORRUPT')} (${this.path('state')}: the state file is missing but its device key ` +
        `${this.path('key')} is still there, so the state was removed; a new one is not created, as that would ` +
        `restart the evaluation period) ${STATE_RECOVERY_HINT}`,
      context: { dir: this.dir },
    });
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
