import { DAY } from '@smartlic/protocol';
import { describe, expect, it } from 'vitest';
import { isAlertEvent } from '../webhooks/webhook-events.js';
import {
  certificateNeedsRenewal,
  GOOD_HEALTH,
  type SyncHealthInput,
  satelliteAlertList,
  satelliteAlerts,
  satelliteHealth,
} from './satellite-health.js';

const T0 = Date.UTC(2026, 0, 1);
/** Synced at T0, due 30 days later, certificate good for a year: nothing to say. */
const base: SyncHealthInput = {
  now: T0,
  lastSyncAt: T0,
  syncDueAt: T0 + 30 * DAY,
  certificateNotAfter: T0 + 365 * DAY,
};
const at = (days: number, o: Partial<SyncHealthInput> = {}) => ({ ...base, now: T0 + days * DAY, ...o });

describe('satellite alerts', () => {
  it('says nothing for a satellite in step, up to its due date included', () => {
    expect(satelliteAlerts(base)).toEqual([]);
    expect(satelliteAlerts(at(30))).toEqual([]);
  });

  it('is overdue just after the due date, and not without a schedule', () => {
    expect(satelliteAlerts({ ...at(30), now: T0 + 30 * DAY + 1 })).toEqual(['Synchronization Overdue']);
    expect(satelliteAlerts(at(40))).toEqual(['Synchronization Overdue']);
    expect(satelliteAlerts(at(40, { syncDueAt: null }))).toEqual([]);
  });

  it('warns of the 90-day deadline from 30 days before it, then says no sync for 90 days', () => {
    expect(satelliteAlerts({ ...at(60), now: T0 + 60 * DAY - 1, syncDueAt: null })).toEqual([]);
    expect(satelliteAlerts(at(60, { syncDueAt: null }))).toEqual(['Sync deadline in 30 days']);
    expect(satelliteAlerts(at(89, { syncDueAt: null }))).toEqual(['Sync deadline in 1 day']);
    expect(satelliteAlerts({ ...at(90), now: T0 + 90 * DAY - 1, syncDueAt: null })).toEqual(['Sync deadline in 1 day']);
    expect(satelliteAlerts(at(90, { syncDueAt: null }))).toEqual(['No sync for 90 days']);
    expect(satelliteAlerts(at(200))).toEqual(['Synchronization Overdue', 'No sync for 90 days']);
    expect(satelliteAlerts(at(200, { lastSyncAt: null, syncDueAt: null }))).toEqual([]);
  });

  it('alarms from 60 days before the certificate expires, then says it expired', () => {
    const notAfter = T0 + 100 * DAY;
    const cert = (now: number) => satelliteAlerts({ ...base, now, certificateNotAfter: notAfter, syncDueAt: null });
    expect(cert(notAfter - 60 * DAY - 1)).toEqual([]);
    expect(cert(notAfter - 60 * DAY)).toEqual(['Certificate expires in 60 days']);
    expect(cert(notAfter - 60 * DAY + 1)).toContain('Certificate expires in 60 days');
    expect(cert(notAfter - 1)).toContain('Certificate expires in 1 day');
    expect(cert(notAfter)).toContain('Certificate expired');
    expect(cert(notAfter).some((a) => a.startsWith('Certificate expires'))).toBe(false);
  });

  it('gives each alert a webhook event type that is an alert', () => {
    const all = satelliteAlertList({ now: T0 + 200 * DAY, lastSyncAt: T0, syncDueAt: T0, certificateNotAfter: T0 });
    expect(all.map((a) => a.eventType)).toEqual([
      'satellite.certificate-expired',
      'satellite.sync-overdue',
      'satellite.not-synced',
    ]);
    const warnings = satelliteAlertList({
      now: T0 + 70 * DAY,
      lastSyncAt: T0,
      syncDueAt: null,
      certificateNotAfter: T0 + 80 * DAY,
    });
    expect(warnings.map((a) => [a.eventType, a.text])).toEqual([
      ['satellite.sync-due', 'Sync deadline in 20 days'],
      ['satellite.certificate-expiring', 'Certificate expires in 10 days'],
    ]);
    for (const a of [...all, ...warnings]) expect(isAlertEvent(a.eventType)).toBe(true);
  });
});

describe('satellite health', () => {
  it('is good when nothing is wrong, and says what is wrong otherwise', () => {
    expect(satelliteHealth(base)).toEqual({ health: GOOD_HEALTH, alerts: [] });
    expect(satelliteHealth(at(40, { upstreamError: 'the authority did not answer' }))).toEqual({
      health: 'Synchronization Overdue; Upstream unreachable: the authority did not answer',
      alerts: ['Synchronization Overdue', 'Upstream unreachable: the authority did not answer'],
    });
  });

  it('renews the certificate in a sync once less than 90 days are left', () => {
    expect(certificateNeedsRenewal(T0 + 90 * DAY, T0)).toBe(false);
    expect(certificateNeedsRenewal(T0 + 90 * DAY - 1, T0)).toBe(true);
  });
});
