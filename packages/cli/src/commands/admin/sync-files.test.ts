import { describe, expect, it } from 'vitest';
import { syncFileText } from './sync-files.js';

const request = {
  format: 'smartlic-sync/2',
  kind: 'sync-request',
  payload: {
    ack: 1,
    events: [{ id: 'e1', detail: { instanceId: 'i1' } }],
    instances: {
      columns: ['id', 'vaId'],
      rows: [
        ['i1', 0, [1, 2, null]],
        ['i2', 0, []],
        ['i3', 1, [1, 1, 2]],
      ],
      strings: ['va', 'tag', 'name'],
    },
    removed: [],
  },
  signature: { alg: 'ES256', value: 'sig' },
};

describe('sync file text', () => {
  it('writes a request with one line per instance, and reads back as the same document', () => {
    const text = syncFileText(request);
    expect(JSON.parse(text)).toEqual(request);
    const lines = text.split('\n');
    expect(lines).toContain('["i1",0,[1,2,null]],');
    expect(lines).toContain('["i2",0,[]],');
    expect(lines).toContain('["i3",1,[1,1,2]]');
    expect(text.endsWith('}\n')).toBe(true);
  });

  it('writes any other document (a response, an empty table, a registration) indented, as before', () => {
    const response = { format: 'smartlic-sync/1', kind: 'sync-response', payload: { sequence: 2 } };
    expect(syncFileText(response)).toBe(`${JSON.stringify(response, null, 1)}\n`);
    const empty = {
      ...request,
      payload: { ...request.payload, instances: { ...request.payload.instances, rows: [] } },
    };
    expect(JSON.parse(syncFileText(empty))).toEqual(empty);
  });
});
