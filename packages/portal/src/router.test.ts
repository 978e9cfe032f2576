import { describe, expect, it } from 'vitest';
import { parseRoute, pathOf } from './router.js';

describe('deep links', () => {
  it('parses every page of SPEC §9 and writes it back', () => {
    const paths = [
      '/inventory/va-1/general',
      '/inventory/va-1/licenses',
      '/inventory/va-1/instances',
      '/inventory/va-1/events',
      '/reports/va-1',
      '/conversion',
      '/satellites',
      '/users',
      '/webhooks',
      '/sync',
      '/sign-in',
    ];
    for (const path of paths) expect(pathOf(parseRoute(path))).toBe(path);
  });

  it('opens the General tab by default and refuses unknown paths', () => {
    expect(parseRoute('/inventory/va-1')).toEqual({ page: 'inventory', vaId: 'va-1', tab: 'general' });
    expect(parseRoute('/')).toEqual({ page: 'inventory', vaId: null, tab: 'general' });
    expect(parseRoute('/inventory/va-1/secrets')).toEqual({ page: 'not-found', path: '/inventory/va-1/secrets' });
    expect(parseRoute('/users/extra')).toEqual({ page: 'not-found', path: '/users/extra' });
  });

  it('decodes and encodes ids', () => {
    expect(parseRoute('/reports/a%2Fb')).toEqual({ page: 'reports', vaId: 'a/b' });
    expect(pathOf({ page: 'reports', vaId: 'a/b' })).toBe('/reports/a%2Fb');
  });
});
