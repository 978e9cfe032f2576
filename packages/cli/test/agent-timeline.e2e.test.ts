import { DAY, errorMessage, HOUR, MINUTE } from '@smartlic/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Row, Timeline } from './agent-timeline.js';

/**
 * SPEC §5 walked through two years and more, one table per story: the real agent against the
 * real authority (`startServer`), both on one ManualClock, no jitter (`random = () => 0`), so
 * that every transition, every event and every timer value — the exact next attempt of each
 * retry schedule — is asserted. "A dead authority" is its port, closed.
 */

const D = DAY;
const H = HOUR;
const M = MINUTE;
const T0 = Date.UTC(2026, 0, 1, 9, 0, 0);
const TAG = 'regid.2017-03.com.cisco.advantagek9';
const SEND_FAILED = errorMessage('SEND_FAILED');
const FAILED = ['COMM_FAILED', 'AUTH_RENEW_FAILED'] as const;
const REG_FAILED = ['AGENT_REG_FAILED', 'COMM_FAILED'] as const;

/** Registered at day 10, after 10 days of evaluation. */
const R = 10 * D;

describe('the agent through two years against a real authority', () => {
  let t: Timeline;
  let vaId: string;

  beforeAll(async () => {
    t = await Timeline.create(T0);
    vaId = await t.account(TAG, 2);
    await t.agent.setDestination(t.url, { authorityRootPem: t.rootCaPem });
  });
  afterAll(() => t?.close());

  it('registers, renews, goes out of compliance and back, survives outages, renews its identity', async () => {
    const good = await t.token(vaId);
    const revoked = await t.token(vaId);
    await t.api('POST', `/api/v1/tokens/${revoked.id}/revoke`);
    const O = R + 185 * D; // the device starts using more than the pool holds
    const A1 = O + 10 * H; // authorized again once licenses were added
    const A2 = A1 + 90 * D + 4 * H; // authorized again after the authorization expired
    const I2 = R + 360 * D + 3 * H; // ID certificate renewed after an outage
    // biome-ignore format: one row per line, so that the walk reads as a table
    const steps = await t.walk([
      // — evaluation —
      {
        what: 'initialised, nothing in use',
        at: 0,
        act: async () => {},
        reg: 'UNREGISTERED',
        auth: 'NO LICENSES IN USE',
        events: [],
        wake: null,
        evaluation: 90 * D,
      },
      {
        what: 'uses a license: EVAL MODE, the evaluation clock runs',
        at: 0,
        act: (t) => t.agent.use(TAG, 1),
        auth: 'EVAL MODE',
        events: ['EVAL_START'],
        evaluation: 90 * D,
        wake: 60 * D,
        next: null,
        deadline: null,
        renewal: null,
        expires: null,
        nextRegistration: null,
      },
      {
        what: 'a revoked token: REGISTRATION FAILED',
        at: 5 * D,
        act: (t) => t.agent.register(revoked.token),
        reg: 'REGISTRATION FAILED',
        auth: 'EVAL MODE',
        events: ['AGENT_REG_FAILED'],
        registrationFailure: 'The ID token has been revoked.',
        nextRegistration: null,
        evaluation: 85 * D,
        wake: 60 * D,
      },
      // — registration and the renewal timers —
      {
        what: 'registers: REGISTERED, AUTHORIZED, the evaluation clock stops',
        at: R,
        act: (t) => t.agent.register(good.token),
        reg: 'REGISTERED',
        auth: 'AUTHORIZED',
        events: ['AGENT_REG_SUCCESS', 'IN_COMPLIANCE', 'AUTH_RENEW_SUCCESS'],
        renewal: R + 180 * D,
        expires: R + 360 * D,
        next: R + 30 * D,
        deadline: R + 90 * D,
        evaluation: 80 * D,
        wake: R + 30 * D,
        failure: null,
        registrationFailure: null,
      },
      {
        what: 'renews its authorization every 30 days',
        repeat: 5,
        events: ['AUTH_RENEW_SUCCESS'],
        auth: 'AUTHORIZED',
        next: (i) => R + 30 * D * (i + 2),
        deadline: (i) => R + 30 * D * (i + 1) + 90 * D,
        renewal: R + 180 * D,
        evaluation: 80 * D,
      },
      {
        what: 'at 180 days renews its ID certificate, then its authorization',
        events: ['ID_CERT_RENEW_SUCCESS', 'AUTH_RENEW_SUCCESS'],
        reg: 'REGISTERED',
        renewal: R + 360 * D,
        expires: R + 540 * D,
        next: R + 210 * D,
        deadline: R + 270 * D,
      },
      // — OUT OF COMPLIANCE: 15 minutes for 2 hours, then 4 hours —
      {
        what: 'uses more than the pool holds: OUT OF COMPLIANCE, asks again in 15 minutes',
        at: O,
        act: (t) => t.agent.use(TAG, 3),
        auth: 'OUT OF COMPLIANCE',
        events: ['OUT_OF_COMPLIANCE', 'AUTH_RENEW_SUCCESS'],
        next: O + 15 * M,
        deadline: O + 90 * D,
      },
      {
        what: 'asks again every 15 minutes for 2 hours',
        repeat: 7,
        events: ['AUTH_RENEW_SUCCESS'],
        auth: 'OUT OF COMPLIANCE',
        next: (i) => O + 15 * M * (i + 2),
        deadline: (i) => O + 15 * M * (i + 1) + 90 * D,
      },
      {
        what: '… then every 4 hours',
        repeat: 2,
        events: ['AUTH_RENEW_SUCCESS'],
        auth: 'OUT OF COMPLIANCE',
        next: (i) => O + 2 * H + 4 * H * (i + 1),
        deadline: (i) => O + 2 * H + 4 * H * i + 90 * D,
      },
      {
        what: 'licenses are added on the authority',
        at: O + 7 * H,
        act: (t) => t.addLicenses(vaId, TAG, 5),
        auth: 'OUT OF COMPLIANCE',
        events: [],
        wake: O + 10 * H,
      },
      {
        what: 'the next check finds them: AUTHORIZED, next renewal in 30 days',
        events: ['IN_COMPLIANCE', 'AUTH_RENEW_SUCCESS'],
        auth: 'AUTHORIZED',
        next: A1 + 30 * D,
        deadline: A1 + 90 * D,
      },
      // — the authority away: 23-hour retries, AUTHORIZATION EXPIRED, hourly retries —
      {
        what: 'the authority goes away',
        at: A1 + D,
        act: (t) => t.stopAuthority(),
        auth: 'AUTHORIZED',
        events: [],
        wake: A1 + 30 * D,
      },
      {
        what: 'the renewal fails: status kept, failure shown, retry in 23 hours',
        events: [...FAILED],
        auth: 'AUTHORIZED',
        failure: SEND_FAILED,
        next: A1 + 30 * D + 23 * H,
        deadline: A1 + 90 * D,
      },
      {
        what: 'retries every 23 hours up to the deadline',
        repeat: 62,
        events: [...FAILED],
        auth: 'AUTHORIZED',
        next: (i) => A1 + 30 * D + 23 * H * (i + 2),
        deadline: A1 + 90 * D,
      },
      {
        what: '90 days after the last authorization: AUTHORIZATION EXPIRED',
        events: ['AUTHORIZATION_EXPIRED'],
        auth: 'AUTHORIZATION EXPIRED',
        next: A1 + 90 * D + H,
        deadline: A1 + 90 * D,
        wake: A1 + 90 * D + H,
      },
      {
        what: 'then retries hourly',
        repeat: 3,
        events: [...FAILED],
        auth: 'AUTHORIZATION EXPIRED',
        failure: SEND_FAILED,
        next: (i) => A1 + 90 * D + H * (i + 2),
      },
      {
        what: 'the authority is back',
        at: A1 + 90 * D + 3 * H + 30 * M,
        act: (t) => t.startAuthority(),
        events: [],
        wake: A2,
      },
      {
        what: 'the next hourly retry succeeds: AUTHORIZED',
        events: ['COMM_RESTORED', 'IN_COMPLIANCE', 'AUTH_RENEW_SUCCESS'],
        auth: 'AUTHORIZED',
        failure: null,
        next: A2 + 30 * D,
        deadline: A2 + 90 * D,
      },
      { what: 'renews every 30 days', repeat: 2, events: ['AUTH_RENEW_SUCCESS'], next: (i) => A2 + 30 * D * (i + 2) },
      // — the ID certificate renewal failing: hourly retries —
      {
        what: 'the authority goes away before the ID renewal',
        at: R + 359 * D,
        act: (t) => t.stopAuthority(),
        events: [],
        wake: R + 360 * D,
      },
      {
        what: 'the ID renewal fails: retried hourly',
        events: ['COMM_FAILED', 'ID_CERT_RENEW_FAILED'],
        reg: 'REGISTERED',
        renewal: R + 360 * D + H,
        expires: R + 540 * D,
        registrationFailure: SEND_FAILED,
      },
      {
        what: '… every hour',
        repeat: 2,
        events: ['COMM_FAILED', 'ID_CERT_RENEW_FAILED'],
        renewal: (i) => R + 360 * D + H * (i + 2),
      },
      {
        what: 'the authority is back',
        at: R + 360 * D + 2 * H + 30 * M,
        act: (t) => t.startAuthority(),
        events: [],
        wake: I2,
      },
      {
        what: 'the ID certificate is renewed',
        events: ['ID_CERT_RENEW_SUCCESS'],
        renewal: I2 + 180 * D,
        expires: I2 + 360 * D,
        registrationFailure: null,
      },
      // — on to the end of the second year —
      {
        what: 'renews its authorization every 30 days',
        repeat: 6,
        events: ['AUTH_RENEW_SUCCESS'],
        next: (i) => A2 + 90 * D + 30 * D * (i + 1),
        deadline: (i) => A2 + 90 * D + 30 * D * i + 90 * D,
      },
      {
        what: 'renews its ID certificate again',
        events: ['ID_CERT_RENEW_SUCCESS'],
        renewal: I2 + 360 * D,
        expires: I2 + 540 * D,
      },
      {
        what: 'renews its authorization every 30 days',
        repeat: 6,
        events: ['AUTH_RENEW_SUCCESS'],
        next: (i) => A2 + 300 * D + 30 * D * i,
      },
      {
        what: 'renews its ID certificate a third time',
        events: ['ID_CERT_RENEW_SUCCESS'],
        renewal: I2 + 540 * D,
        expires: I2 + 720 * D,
      },
      {
        what: 'renews its authorization past the second year',
        events: ['AUTH_RENEW_SUCCESS'],
        next: A2 + 480 * D,
        reg: 'REGISTERED',
        auth: 'AUTHORIZED',
        evaluation: 80 * D,
      },
      // — deregistration and forced registration —
      {
        what: 'deregisters while the authority is away: removed locally, and said so',
        at: R + 731 * D,
        act: async (t) => {
          await t.stopAuthority();
          const outcome = await t.agent.deregister();
          expect(outcome).toMatchObject({ ok: false, code: 'SEND_FAILED' });
          expect(outcome.message).toMatch(
            /^The local registration was removed, but the authority could not confirm it/,
          );
        },
        reg: 'UNREGISTERED',
        auth: 'EVAL MODE',
        events: ['COMM_FAILED', 'AGENT_DEREG_FAILED', 'EVAL_START'],
        evaluation: 80 * D,
        next: null,
        renewal: null,
        wake: R + 781 * D,
      },
      {
        what: 'the authority still holds the instance: "Product Already Registered"',
        at: R + 732 * D,
        act: async (t) => {
          await t.startAuthority();
          await t.agent.register((await t.token(vaId)).token);
        },
        reg: 'REGISTRATION FAILED',
        // The seed's reason, then why force is needed and what it may replace.
        registrationFailure: expect.stringMatching(/^Product Already Registered: PID:\S+ SN:\S+ is already registered\. With force/),
        events: ['AGENT_REG_FAILED'],
        evaluation: 79 * D,
      },
      {
        what: '… and registers with force',
        at: R + 732 * D + H,
        act: async (t) => t.agent.register((await t.token(vaId)).token, { force: true }),
        reg: 'REGISTERED',
        auth: 'AUTHORIZED',
        events: ['AGENT_REG_SUCCESS', 'IN_COMPLIANCE', 'AUTH_RENEW_SUCCESS'],
        evaluation: 79 * D - H,
        renewal: R + 912 * D + H,
        next: R + 762 * D + H,
      },
    ] satisfies Row[]);
    expect(t.clock.now() - T0).toBeGreaterThan(2 * 365 * D);
    expect(steps).toBeGreaterThan(110);
  });
});

describe('the agent through two years against a dead authority', () => {
  let t: Timeline;
  beforeAll(async () => {
    t = await Timeline.create(T0);
    await t.agent.setDestination(t.url, { authorityRootPem: t.rootCaPem });
    await t.stopAuthority();
  });
  afterAll(() => t?.close());

  it('keeps REGISTERING (15 minutes for 4 hours, then hourly) while its evaluation period runs out', async () => {
    const fail = [...REG_FAILED];
    const warnAndFail = ['EVAL_WILL_EXPIRE_WARNING', ...REG_FAILED];
    // biome-ignore format: one row per line, so that the walk reads as a table
    await t.walk([
      { what: 'uses a license: EVAL MODE', at: 0, act: (t) => t.agent.use(TAG, 1), reg: 'UNREGISTERED', auth: 'EVAL MODE', events: ['EVAL_START'], wake: 60 * D },
      { what: 'registration cannot be sent: REGISTERING, retried in 15 minutes', at: D, act: (t) => t.agent.register('any-token'), reg: 'REGISTERING', auth: 'EVAL MODE', events: fail, nextRegistration: D + 15 * M, registrationFailure: SEND_FAILED, evaluation: 89 * D },
      { what: 'retried every 15 minutes for 4 hours', repeat: 15, events: fail, reg: 'REGISTERING', nextRegistration: (i) => D + 15 * M * (i + 2) },
      { what: '… then hourly', repeat: 4, events: fail, reg: 'REGISTERING', nextRegistration: (i) => D + 4 * H + H * (i + 1) },
      { what: 'the device is off until day 59', at: 59 * D, events: fail, nextRegistration: 59 * D + H, evaluation: 31 * D, wake: 59 * D + H },
      { what: '30 days of evaluation left: a warning', at: 60 * D, events: warnAndFail, evaluation: 30 * D, nextRegistration: 60 * D + H, wake: 60 * D + H },
      { what: '15 days left', at: 75 * D, events: warnAndFail, evaluation: 15 * D },
      { what: '7 days left', at: 83 * D, events: warnAndFail, evaluation: 7 * D },
      { what: '1 day left', at: 89 * D, events: warnAndFail, evaluation: D, wake: 89 * D + H },
      { what: '90 days of use: EVAL EXPIRED', at: 90 * D, events: ['EVAL_EXPIRED', ...REG_FAILED], reg: 'REGISTERING', auth: 'EVAL EXPIRED', evaluation: 0, nextRegistration: 90 * D + H },
      { what: 'two years on it still tries hourly', at: 731 * D, events: fail, reg: 'REGISTERING', auth: 'EVAL EXPIRED', nextRegistration: 731 * D + H, wake: 731 * D + H },
    ]);
  });
});

describe('a registered agent whose authority disappears for good', () => {
  let t: Timeline;
  let token: string;
  beforeAll(async () => {
    t = await Timeline.create(T0);
    await t.agent.setDestination(t.url, { authorityRootPem: t.rootCaPem });
    token = (await t.token(await t.account(TAG, 5))).token;
  });
  afterAll(() => t?.close());

  it('goes AUTHORIZATION EXPIRED at 90 days, retries hourly, and is unregistered when its ID certificate expires', async () => {
    const both = ['COMM_FAILED', 'ID_CERT_RENEW_FAILED', ...FAILED];
    const registerThenVanish = async (t: Timeline) => {
      await t.agent.register(token);
      await t.stopAuthority();
    };
    // biome-ignore format: one row per line, so that the walk reads as a table
    await t.walk([
      { what: 'uses a license for 10 days', at: 0, act: (t) => t.agent.use(TAG, 1), auth: 'EVAL MODE', events: ['EVAL_START'] },
      { what: 'registers, then the authority disappears', at: R, act: registerThenVanish, reg: 'REGISTERED', auth: 'AUTHORIZED', events: ['AGENT_REG_SUCCESS', 'IN_COMPLIANCE', 'AUTH_RENEW_SUCCESS'], next: R + 30 * D, deadline: R + 90 * D, renewal: R + 180 * D, expires: R + 360 * D, evaluation: 80 * D },
      { what: 'the renewal at 30 days fails: retry in 23 hours', events: [...FAILED], auth: 'AUTHORIZED', next: R + 30 * D + 23 * H, failure: SEND_FAILED },
      { what: 'retried every 23 hours', repeat: 3, events: [...FAILED], next: (i) => R + 30 * D + 23 * H * (i + 2) },
      { what: 'the device is off until day 89 of the authorization', at: R + 89 * D, events: [...FAILED], auth: 'AUTHORIZED', next: R + 89 * D + 23 * H, wake: R + 89 * D + 23 * H },
      { what: 'the last retry before the deadline', events: [...FAILED], auth: 'AUTHORIZED', next: R + 90 * D + 22 * H, deadline: R + 90 * D, wake: R + 90 * D },
      { what: 'AUTHORIZATION EXPIRED 90 days after the last successful authorization', events: ['AUTHORIZATION_EXPIRED'], auth: 'AUTHORIZATION EXPIRED', next: R + 90 * D + H },
      { what: 'retried hourly', repeat: 3, events: [...FAILED], auth: 'AUTHORIZATION EXPIRED', next: (i) => R + 90 * D + H * (i + 2) },
      { what: 'at 180 days the ID renewal fails too: both retried hourly', at: R + 180 * D, events: both, reg: 'REGISTERED', renewal: R + 180 * D + H, next: R + 180 * D + H },
      { what: '… every hour', repeat: 2, events: both, renewal: (i) => R + 180 * D + H * (i + 2), next: (i) => R + 180 * D + H * (i + 2) },
      { what: 'the last retries before the certificate expires', at: R + 359 * D + 23 * H, events: both, renewal: null, next: R + 360 * D, wake: R + 360 * D },
      { what: 'the ID certificate expires: REGISTRATION EXPIRED, back on its remaining evaluation time', events: ['ID_CERT_EXPIRED', 'EVAL_START'], reg: 'REGISTRATION EXPIRED', auth: 'EVAL MODE', evaluation: 80 * D, next: null, deadline: null, renewal: null, expires: null, wake: R + 410 * D },
      { what: '30 days of evaluation left', events: ['EVAL_WILL_EXPIRE_WARNING'], evaluation: 30 * D, wake: R + 425 * D },
      { what: '15 days left', events: ['EVAL_WILL_EXPIRE_WARNING'], evaluation: 15 * D, wake: R + 433 * D },
      { what: '7 days left', events: ['EVAL_WILL_EXPIRE_WARNING'], evaluation: 7 * D, wake: R + 439 * D },
      { what: '1 day left', events: ['EVAL_WILL_EXPIRE_WARNING'], evaluation: D, wake: R + 440 * D },
      { what: 'EVAL EXPIRED', events: ['EVAL_EXPIRED'], reg: 'REGISTRATION EXPIRED', auth: 'EVAL EXPIRED', evaluation: 0, wake: null },
      { what: 'two years on nothing is left to do', at: 2 * 365 * D + D, events: [], reg: 'REGISTRATION EXPIRED', auth: 'EVAL EXPIRED', wake: null },
    ]);
  });
});
