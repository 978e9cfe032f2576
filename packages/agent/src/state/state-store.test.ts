import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@smartlic/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from '../agent.js';
import { newDeviceKey } from '../device-key.js';
import { initialState } from './agent-state.js';
import { StateStore } from './state-store.js';

describe('state store', () => {
  let root: string;
  let dir: string;
  const clock = new ManualClock();
  const options = () => ({ stateDir: dir, clock });
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'smartlic-store-'));
    dir = join(root, 'device');
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('refuses to open a device that was never initialised', async () => {
    await expect(Agent.open(options())).rejects.toMatchObject({
      code: 'NOT_INITIALISED',
      message: 'This device is not initialised: run `smartlic device init --pid PID` first.',
    });
  });

  it('refuses to initialise twice', async () => {
    await Agent.init({ pid: 'C9300' }, options());
    await expect(Agent.init({ pid: 'C9300' }, options())).rejects.toMatchObject({ code: 'ALREADY_INITIALISED' });
  });

  it('fills identity defaults', async () => {
    const agent = await Agent.init({ pid: 'C9300' }, { ...options(), random: () => 0 });
    expect(agent.status().identity).toMatchObject({
      pid: 'C9300',
      sn: 'SLAAAAAAAAA',
      softwareTag: 'regid.2026-01.org.smartlic.C9300',
      profile: 'catalyst',
      hostname: null,
    });
    await expect(Agent.init({ pid: '' }, { stateDir: join(root, 'x') })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it.each([
    ['truncated', (text: string) => text.slice(0, text.length / 2)],
    ['not an object', () => '[]'],
    ['a field of the wrong type', (text: string) => text.replace('"usedMs": 0', '"usedMs": "0"')],
    ['an unknown status', (text: string) => text.replace('"UNREGISTERED"', '"HACKED"')],
    ['empty', () => ''],
  ])('refuses a state file that is %s with STATE_CORRUPT', async (_, spoil) => {
    await Agent.init({ pid: 'C9300' }, options());
    const file = join(dir, 'state.json');
    const text = await readFile(file, 'utf8');
    await writeFile(file, spoil(text));
    await expect(Agent.open(options())).rejects.toMatchObject({ code: 'STATE_CORRUPT' });
    expect(await readFile(file, 'utf8')).toBe(spoil(text));
  });

  it('refuses a state file truncated on disk', async () => {
    await Agent.init({ pid: 'C9300' }, options());
    await truncate(join(dir, 'state.json'), 100);
    await expect(Agent.open(options())).rejects.toThrow('The device state file is damaged or was edited');
  });

  it('refuses a device key that does not belong to the state', async () => {
    await Agent.init({ pid: 'C9300' }, options());
    await writeFile(join(dir, 'device-key.pem'), newDeviceKey().pem);
    await expect(Agent.open(options())).rejects.toMatchObject({ code: 'STATE_CORRUPT' });
  });

  it('refuses a state written by a newer version', async () => {
    await Agent.init({ pid: 'C9300' }, options());
    const file = join(dir, 'state.json');
    await writeFile(file, (await readFile(file, 'utf8')).replace('"version": 1', '"version": 2'));
    await expect(Agent.open(options())).rejects.toThrow('newer smartlic');
  });

  it('finishes a key replacement interrupted after the state was saved', async () => {
    const store = new StateStore(dir);
    const first = newDeviceKey();
    await store.create(
      initialState({ pid: 'P', sn: 'S', softwareTag: 't', profile: 'catalyst' }, first.fingerprint, 0),
      first,
    );
    const { state } = await store.load();
    const next = newDeviceKey();
    await store.stageKey(next);
    await store.save({ ...state, deviceKeyFingerprint: next.fingerprint });
    const loaded = await store.load();
    expect(loaded.key.fingerprint).toBe(next.fingerprint);
    expect(await readFile(join(dir, 'device-key.pem'), 'utf8')).toBe(next.pem);
  });

  it('discards a staged key when the crash came before the state was saved', async () => {
    const store = new StateStore(dir);
    const first = newDeviceKey();
    await store.create(
      initialState({ pid: 'P', sn: 'S', softwareTag: 't', profile: 'catalyst' }, first.fingerprint, 0),
      first,
    );
    await store.stageKey(newDeviceKey());
    expect((await store.load()).key.fingerprint).toBe(first.fingerprint);
    await expect(readFile(join(dir, 'device-key.next.pem'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('leaves the old file whole when a write is interrupted before the rename', async () => {
    const store = new StateStore(dir);
    const key = newDeviceKey();
    const state = initialState({ pid: 'P', sn: 'S', softwareTag: 't', profile: 'catalyst' }, key.fingerprint, 0);
    await store.create(state, key);
    await writeFile(join(dir, 'state.json.123.abcd.tmp'), '{"version":');
    expect((await store.load()).state).toEqual(state);
    await store.save({ ...state, revision: 7 });
    expect((await store.load()).state.revision).toBe(7);
  });
});
