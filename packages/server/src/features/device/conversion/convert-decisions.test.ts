import { describe, expect, it } from 'vitest';
import { decideLicenses } from './convert-service.js';

const caps = { mode: 'on' as const, auto_max_per_license: 100, auto_max_per_device: 250 };
const counts = (...n: number[]) => n.map((count) => ({ count }));

describe('which reported legacy licenses are deposited at once', () => {
  it('deposits under both caps, in report order, until the device allowance is spent', () => {
    expect(decideLicenses(caps, counts(100, 100, 60, 50), 0)).toEqual([
      'under-caps',
      'under-caps',
      'over-device-cap',
      'under-caps',
    ]);
    expect(decideLicenses(caps, counts(1), 250)).toEqual(['over-device-cap']);
    expect(decideLicenses(caps, counts(1, 1), 249)).toEqual(['under-caps', 'over-device-cap']);
  });

  it('holds back a license over the per-license cap without spending the allowance', () => {
    expect(decideLicenses(caps, counts(101, 100), 0)).toEqual(['over-license-cap', 'under-caps']);
    expect(decideLicenses({ ...caps, auto_max_per_license: 0 }, counts(1), 0)).toEqual(['over-license-cap']);
  });

  it('holds back everything in review mode', () => {
    expect(decideLicenses({ ...caps, mode: 'review' }, counts(1, 2), 0)).toEqual(['review', 'review']);
  });
});
