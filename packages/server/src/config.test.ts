import { join, resolve } from 'node:path';
import { ManualClock, systemClock } from '@smartlic/protocol';
import { describe, expect, it } from 'vitest';
import { databaseTargetOf, parseServerConfig, sqliteFileOf } from './config.js';
import { systemResolver } from './features/webhooks/webhook-target.js';
import { DEFAULT_RATE_LIMITS } from './http/rate-limits.js';

describe('server options', () => {
  it('fills in the defaults', () => {
    expect(parseServerConfig({ dataDir: 'data' })).toEqual({
      dataDir: resolve('data'),
      host: '127.0.0.1',
      port: 8470,
      mode: 'authority',
      upstream: undefined,
      database: { engine: 'sqlite', file: join(resolve('data'), 'smartlic.db') },
      clock: systemClock,
      logLevel: 'info',
      clockToleranceMs: 3_600_000,
      webhookAllowPrivate: false,
      webhookResolver: systemResolver,
      rateLimits: {
        register: 600,
        registerPerToken: 600,
        device: 120,
        admin: 3000,
        authFailures: 30,
        signIn: 60,
        signInPerEmail: 10,
        satelliteSync: 60,
        satelliteSyncPerSatellite: 20,
      },
      tls: undefined,
      jobStartDelayMs: 5_000,
      sessionIdleMinutes: 30,
      portalDir: expect.stringMatching(/packages[/\\]portal[/\\]dist$/),
      helperNice: 0,
    });
  });

  it('refuses a job start delay that is not a whole number of ms from 0', () => {
    expect(() => parseServerConfig({ dataDir: 'd', jobStartDelayMs: -1 })).toThrow(/jobStartDelayMs/);
    expect(() => parseServerConfig({ dataDir: 'd', jobStartDelayMs: 1.5 })).toThrow(/jobStartDelayMs/);
    expect(parseServerConfig({ dataDir: 'd', jobStartDelayMs: 0 }).jobStartDelayMs).toBe(0);
  });

  it('completes partial rate limits with the defaults, and takes them off', () => {
    expect(parseServerConfig({ dataDir: 'd', rateLimits: { register: 5, admin: 7 } }).rateLimits).toEqual({
      ...DEFAULT_RATE_LIMITS,
      register: 5,
      admin: 7,
    });
    expect(parseServerConfig({ dataDir: 'd', rateLimits: 'off' }).rateLimits).toBe('off');
  });

  it('refuses rate limits that are not whole numbers of at least 1, or unknown', () => {
    expect(() => parseServerConfig({ dataDir: 'd', rateLimits: { register: 0 } })).toThrow(/rateLimits\.register/);
    expect(() => parseServerConfig({ dataDir: 'd', rateLimits: { device: 1.5 } })).toThrow(/rateLimits\.device/);
    expect(() => parseServerConfig({ dataDir: 'd', rateLimits: { burst: 3 } as never })).toThrow(/rateLimits/);
    expect(() => parseServerConfig({ dataDir: 'd', rateLimits: 'on' as never })).toThrow(/rateLimits/);
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
  });

  it('accepts satellite mode with an upstream URL, and an upstream only on a satellite', () => {
    expect(parseServerConfig({ dataDir: 'd', mode: 'satellite' })).toMatchObject({
      mode: 'satellite',
      upstream: undefined,
    });
    expect(
      parseServerConfig({ dataDir: 'd', mode: 'satellite', upstream: 'https://licensing.example/' }).upstream,
    ).toBe('https://licensing.example');
    expect(() => parseServerConfig({ dataDir: 'd', mode: 'satellite', upstream: 'ftp://x' })).toThrow(
      /Invalid server options: upstream/,
    );
    expect(() => parseServerConfig({ dataDir: 'd', upstream: 'https://licensing.example' })).toThrow(
      'Invalid server options: upstream: only a satellite has an upstream (add --mode satellite).',
    );
  });

  it('reads SQLite database URLs and refuses others', () => {
    expect(sqliteFileOf('sqlite:/var/x.db', '/d')).toBe('/var/x.db');
    expect(sqliteFileOf('sqlite:///var/x.db', '/d')).toBe('/var/x.db');
    expect(sqliteFileOf('file:///var/x.db', '/d')).toBe('/var/x.db');
    expect(sqliteFileOf('/var/x.db', '/d')).toBe('/var/x.db');
    expect(sqliteFileOf('rel.db', '/d')).toBe(resolve('rel.db'));
    expect(() => sqliteFileOf('mysql://h/db', '/d')).toThrow(/Unsupported database URL/);
  });

  it('takes postgres:// and postgresql:// URLs as PostgreSQL, and refuses one without a database', () => {
    expect(databaseTargetOf('postgres://u:p@h:5433/lic', '/d')).toEqual({
      engine: 'postgres',
      url: 'postgres://u:p@h:5433/lic',
      poolSize: 10,
    });
    expect(databaseTargetOf('postgresql://h/lic', '/d', 4)).toEqual({
      engine: 'postgres',
      url: 'postgresql://h/lic',
      poolSize: 4,
    });
    expect(databaseTargetOf(undefined, '/d')).toEqual({ engine: 'sqlite', file: '/d/smartlic.db' });
    expect(() => databaseTargetOf('postgres://u:secret@h:5432', '/d')).toThrow(
      'The PostgreSQL URL "postgres://u:***@h:5432" names no database: write postgres://user:password@host:port/database.',
    );
    expect(() => databaseTargetOf('postgres://u:secret@h:99999/x', '/d')).toThrow(/is not a valid URL/);
  });
});
