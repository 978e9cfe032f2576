import { join, resolve } from 'node:path';
import { ManualClock, systemClock } from '@smartlic/protocol';
import { describe, expect, it } from 'vitest';
import { parseServerConfig, sqliteFileOf } from './config.js';
import { systemResolver } from './features/webhooks/webhook-target.js';

describe('server options', () => {
  it('fills in the defaults', () => {
    expect(parseServerConfig({ dataDir: 'data' })).toEqual({
      dataDir: resolve('data'),
      host: '127.0.0.1',
      port: 8470,
      mode: 'authority',
      dbFile: join(resolve('data'), 'smartlic.db'),
      clock: systemClock,
      logLevel: 'info',
      clockToleranceMs: 3_600_000,
      webhookAllowPrivate: false,
      webhookResolver: systemResolver,
    });
  });

  it('keeps what is given', () => {
    const clock = new ManualClock();
    const config = parseServerConfig({
      dataDir: '/d',
      host: '0.0.0.0',
      port: 0,
      clock,
      logLevel: 'silent',
      clockToleranceMs: 5,
      webhookAllowPrivate: true,
    });
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 0,
      clock,
      logLevel: 'silent',
      clockToleranceMs: 5,
      webhookAllowPrivate: true,
    });
  });

  it('refuses bad options, naming them', () => {
    expect(() => parseServerConfig({ dataDir: '' })).toThrow(/dataDir/);
    expect(() => parseServerConfig({ dataDir: 'd', port: -1 })).toThrow(/Invalid server options: port/);
    expect(() => parseServerConfig({ dataDir: 'd', logLevel: 'loud' })).toThrow(/logLevel/);
    expect(() => parseServerConfig({ dataDir: 'd', mode: 'satellite' })).toThrow(
      'Satellite mode is not implemented yet.',
    );
  });

  it('reads SQLite database URLs and refuses others', () => {
    expect(sqliteFileOf('sqlite:/var/x.db', '/d')).toBe('/var/x.db');
    expect(sqliteFileOf('sqlite:///var/x.db', '/d')).toBe('/var/x.db');
    expect(sqliteFileOf('file:///var/x.db', '/d')).toBe('/var/x.db');
    expect(sqliteFileOf('/var/x.db', '/d')).toBe('/var/x.db');
    expect(sqliteFileOf('rel.db', '/d')).toBe(resolve('rel.db'));
    expect(() => sqliteFileOf('postgresql://h/db', '/d')).toThrow(/PostgreSQL is not supported yet/);
    expect(() => sqliteFileOf('mysql://h/db', '/d')).toThrow(/Unsupported database URL/);
  });
});
