import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '@smartlic/protocol';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Agent } from '../agent.js';
import { newDeviceKey } from '../device-key.js';
import { createRootCa } from '../testing/fake-pki.js';
import { initialState } from './agent-state.js';
import { StateStore } from './state-store.js';

describe('state store', () => {
  let root: string;
  let dir: string;
  const clock = new ManualClock();
  const options = () => ({ stateDir: dir, clock });
  /** Initialises the device in `dir`, and closes it (releasing its writer lock). */
  const initialised = async () => (await Agent.init({ pid: 'C9300' }, options())).close();
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'smartlic-store-'));
    dir = join(root, 'device');
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('refuses to open a device that was never initialised', async () => {
    await expect(Agent.open(options())).rejects.toMatchObject({
      code: 'NOT_INITIALISED',
      message: 'This device is not initialised.',
    });
  });

  it('refuses to initialise twice', async () => {
    await initialised();
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
    await initialised();
    const file = join(dir, 'state.json');
    const text = await readFile(file, 'utf8');
    await writeFile(file, spoil(text));
    await expect(Agent.open(options())).rejects.toMatchObject({ code: 'STATE_CORRUPT' });
    expect(await readFile(file, 'utf8')).toBe(spoil(text));
  });

  it('refuses a state edited by hand even when it is well formed, and says how to recover', async () => {
    const agent = await Agent.init({ pid: 'C9300' }, options());
    await agent.use('regid.tag', 1);
    await agent.close();
    clock.advance(89 * 86_400_000);
    const file = join(dir, 'state.json');
    const text = await readFile(file, 'utf8');
    // Give back the evaluation time: a perfectly valid state, but not the one the agent wrote.
    const edited = JSON.parse(text) as { evaluation: { runningSince: number } };
    edited.evaluation.runningSince += 89 * 86_400_000;
    await writeFile(file, JSON.stringify(edited, null, 2));
    const refused = Agent.open(options());
    await expect(refused).rejects.toMatchObject({ code: 'STATE_CORRUPT' });
    await expect(refused).rejects.toThrow(/integrity check \(HMAC-SHA256 bound to the device key\) failed/);
    await expect(refused).rejects.toThrow(/smartlic device init` with a new --state directory/);
  });

  it('refuses a state signed with another device key', async () => {
    await initialised();
    const other = join(root, 'other');
    await (await Agent.init({ pid: 'C9300' }, { stateDir: other, clock })).close();
    await writeFile(join(dir, 'state.json'), await readFile(join(other, 'state.json')));
    await expect(Agent.open(options())).rejects.toMatchObject({ code: 'STATE_CORRUPT' });
  });

  it('opens a state written before TLS trust points existed, and MACs the new list', async () => {
    const store = new StateStore(dir);
    const key = newDeviceKey();
    const legacy = initialState({ pid: 'P', sn: 'S', softwareTag: 't', profile: 'catalyst' }, key.fingerprint, 0);
    legacy.trust = { anchors: [] };
    await store.create(legacy, key);
    const file = join(dir, 'state.json');
    expect(await readFile(file, 'utf8')).not.toContain('tlsTrustPoints');
    const agent = await Agent.open(options());
    expect(agent.status().transport).toMatchObject({ trustAnchors: 0, tlsTrustPoints: 0 });

    const [root, proxyCa] = await Promise.all([createRootCa('CN=root', 0), createRootCa('CN=proxy CA', 0)]);
    await agent.setDestination('http://127.0.0.1:9', { authorityRootPem: root.pem, trustPem: proxyCa.pem });
    const saved = (await store.load()).state.trust;
    expect(saved.anchors.map(fingerprintOf)).toEqual([root.fingerprint]);
    expect(saved.tlsTrustPoints?.map(fingerprintOf)).toEqual([proxyCa.fingerprint]);
    await agent.close();
    const reopened = await Agent.open(options());
    expect(reopened.status().transport).toMatchObject({ trustAnchors: 1, tlsTrustPoints: 1 });
    await reopened.close();

    // The TLS trust points are covered by the MAC: moving one into the anchors by hand is refused.
    const edited = JSON.parse(await readFile(file, 'utf8')) as {
      trust: { anchors: string[]; tlsTrustPoints: string[] };
    };
    edited.trust.anchors.push(...edited.trust.tlsTrustPoints);
    await writeFile(file, JSON.stringify(edited, null, 2));
    await expect(Agent.open(options())).rejects.toThrow(
      /integrity check \(HMAC-SHA256 bound to the device key\) failed/,
    );
  });

  it('refuses an unsigned version 1 state', async () => {
    await initialised();
    const file = join(dir, 'state.json');
    const { integrity: _, ...unsigned } = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    await writeFile(file, JSON.stringify({ ...unsigned, version: 1 }));
    await expect(Agent.open(options())).rejects.toThrow(/version 1 file without an integrity check/);
  });

  it('refuses to start a fresh device where a state was removed but its key left', async () => {
    await initialised();
    await rm(join(dir, 'state.json'));
    await expect(Agent.open(options())).rejects.toThrow(/the state file is missing but its device key/);
    await expect(Agent.init({ pid: 'C9300' }, options())).rejects.toMatchObject({ code: 'STATE_CORRUPT' });
  });

  it('removes temporary files of writers that were killed, and keeps those of live ones', async () => {
    await initialised();
    const dead = join(dir, 'state.json.999999.abcd.tmp');
    const live = join(dir, `state.json.${process.pid}.abcd.tmp`);
    await writeFile(dead, '{"version":');
    await writeFile(live, '{"version":');
    await Agent.open(options());
    await expect(readFile(dead)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(live, 'utf8')).toBe('{"version":');
  });

  it('refuses a state file truncated on disk', async () => {
    await initialised();
    await truncate(join(dir, 'state.json'), 100);
    await expect(Agent.open(options())).rejects.toThrow('The device state file is damaged or was edited');
  });

  it('refuses a device key that does not belong to the state', async () => {
    await initialised();
    await writeFile(join(dir, 'device-key.pem'), newDeviceKey().pem);
    await expect(Agent.open(options())).rejects.toMatchObject({ code: 'STATE_CORRUPT' });
  });

  it('refuses a state written by a newer version', async () => {
    await initialised();
    const file = join(dir, 'state.json');
    await writeFile(file, (await readFile(file, 'utf8')).replace('"version": 2', '"version": 3'));
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

function fingerprintOf(pem: string): string {
  return new X509Certificate(pem).fingerprint256;
}
