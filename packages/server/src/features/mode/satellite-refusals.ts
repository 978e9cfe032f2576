import { SmartlicError } from '@smartlic/protocol';

/** One admin route that only the authority serves, and how a satellite refuses it. */
export interface AuthorityOnlyRoute {
  method: 'POST' | 'PATCH';
  /** The route pattern as registered, e.g. `/api/v1/virtual-accounts/:vaId/licenses`. */
  url: string;
  /** What the satellite cannot do, after "This satellite cannot …". */
  cannot: string;
  /** What to do at the authority instead, after ";". */
  instead: string;
}

/**
 * What only the authority does (SPEC §8): creating Smart and Virtual Accounts, license pools
 * (`license add`, transfers of pools between VAs), tags, PAK conversion, reservation and the VA
 * settings and policies that a sync brings down. Everything else a satellite serves itself: tokens,
 * instances, users, events, reports, webhooks, reviews of device-led conversions.
 */
export const AUTHORITY_ONLY_ROUTES: readonly AuthorityOnlyRoute[] = [
  {
    method: 'POST',
    url: '/api/v1/accounts',
    cannot: 'create Smart Accounts',
    instead: 'create them at the authority',
  },
  {
    method: 'POST',
    url: '/api/v1/accounts/:accountId/virtual-accounts',
    cannot: 'create Virtual Accounts',
    instead: 'create them at the authority and have the satellite serve them',
  },
  {
    method: 'POST',
    url: '/api/v1/virtual-accounts/:vaId/licenses',
    cannot: 'create licenses',
    instead: 'add them at the authority',
  },
  {
    method: 'POST',
    url: '/api/v1/virtual-accounts/:vaId/licenses/transfer',
    cannot: 'transfer licenses between Virtual Accounts',
    instead: 'transfer them at the authority',
  },
  { method: 'POST', url: '/api/v1/tags', cannot: 'define tags', instead: 'define them at the authority' },
  {
    method: 'POST',
    url: '/api/v1/accounts/:accountId/paks',
    cannot: 'take in PAKs',
    instead: 'add them at the authority',
  },
  {
    method: 'POST',
    url: '/api/v1/paks/:pakId/convert',
    cannot: 'convert PAKs',
    instead: 'convert them at the authority',
  },
  {
    method: 'PATCH',
    url: '/api/v1/virtual-accounts/:vaId/conversion-settings',
    cannot: 'change the settings of a Virtual Account',
    instead: 'change them at the authority',
  },
  {
    method: 'POST',
    url: '/api/v1/virtual-accounts/:vaId/policy',
    cannot: "set a Virtual Account's policy",
    instead: 'set it at the authority',
  },
  ...[
    ['POST', '/api/v1/virtual-accounts/:vaId/reservation-settings'],
    ['POST', '/api/v1/virtual-accounts/:vaId/reservations'],
    ['POST', '/api/v1/virtual-accounts/:vaId/reservations/plr'],
    ['POST', '/api/v1/instances/:instanceId/reservation'],
    ['POST', '/api/v1/instances/:instanceId/reservation/confirm'],
    ['POST', '/api/v1/instances/:instanceId/reservation/return'],
  ].map(([method, url]) => ({
    method: method as AuthorityOnlyRoute['method'],
    url: url as string,
    cannot: 'reserve licenses',
    instead: 'reserve them at the authority (reservation does not work through a satellite)',
  })),
];

/**
 * The refusal of an authority-only route on a satellite, one sentence that says where to do it:
 * "This satellite cannot create licenses; add them at the authority (https://…) and synchronise."
 * (`NOT_ON_SATELLITE`, 409).
 */
export function notOnSatellite(route: AuthorityOnlyRoute, upstream: string | undefined): SmartlicError {
  const where = upstream ? ` (${upstream})` : '';
  return new SmartlicError('NOT_ON_SATELLITE', {
    message: `This satellite cannot ${route.cannot}; ${route.instead}${where} and synchronise.`,
    context: { method: route.method, url: route.url },
  });
}

/** The authority-only route a request matched (method and registered pattern), if any. */
export function authorityOnlyRoute(method: string, url: string | undefined): AuthorityOnlyRoute | undefined {
  if (url === undefined) return undefined;
  return AUTHORITY_ONLY_ROUTES.find((r) => r.method === method && r.url === url);
}

/**
 * Throws at start when an entry of {@link AUTHORITY_ONLY_ROUTES} names no registered route (a
 * route renamed without its refusal would otherwise be served on a satellite): fail closed.
 */
export function assertRefusalsMatchRoutes(routes: ReadonlyArray<{ method: string; url: string }>): void {
  for (const r of AUTHORITY_ONLY_ROUTES) {
    if (!routes.some((served) => served.method === r.method && served.url === r.url)) {
      throw new Error(`The authority-only route ${r.method} ${r.url} is not registered: update satellite-refusals.ts.`);
    }
  }
}
