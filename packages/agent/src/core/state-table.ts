import type { AgentState, AuthorizationStatus, RegistrationStatus } from '../state/agent-state.js';
import { authorizationStatus } from './derive-status.js';
import { EVALUATION_PERIOD_MS, evaluationShouldRun } from './evaluation.js';

const UNIDENTIFIED: readonly AuthorizationStatus[] = ['EVAL MODE', 'EVAL EXPIRED', 'NO LICENSES IN USE'];

/**
 * The (registration, authorization) status pairs of SPEC §5 the agent can be in. An unidentified
 * device runs on its evaluation period; a registered one is authorized, out of compliance,
 * expired, uses nothing, or — registered but not yet authorized — still shows its evaluation
 * status (the evaluation clock is stopped while registered).
 */
export const ALLOWED_STATES: Readonly<Record<RegistrationStatus, readonly AuthorizationStatus[]>> = {
  UNREGISTERED: UNIDENTIFIED,
  REGISTERING: UNIDENTIFIED,
  'REGISTRATION FAILED': UNIDENTIFIED,
  'REGISTRATION EXPIRED': UNIDENTIFIED,
  REGISTERED: [
    'AUTHORIZED',
    'OUT OF COMPLIANCE',
    'AUTHORIZATION EXPIRED',
    'NO LICENSES IN USE',
    'EVAL MODE',
    'EVAL EXPIRED',
  ],
};

/**
 * What is wrong with a settled state (one that `transition` returned at `now`): a status pair
 * outside `ALLOWED_STATES`, or records that contradict each other. Empty when the state is sound.
 * Used by the tests (property test, kill test) and safe to call on any loaded state.
 */
export function stateProblems(state: AgentState, now: number): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, problem: string) => {
    if (!ok) problems.push(problem);
  };
  const reg = state.registration;
  const auth = state.authorization;
  const ev = state.evaluation;
  const status = authorizationStatus(state);
  check(ALLOWED_STATES[reg.status].includes(status), `${reg.status} with ${status} is not a state of SPEC §5`);
  check((reg.certificate !== undefined) === (reg.status === 'REGISTERED'), 'a certificate exactly while REGISTERED');
  check(reg.status !== 'REGISTERING' || reg.pending !== undefined, 'REGISTERING without a pending registration');
  check(
    reg.certificate !== undefined || reg.pending === undefined || reg.status === 'REGISTERING',
    'a pending registration shows REGISTERING',
  );
  check(
    reg.certificate !== undefined || Object.keys(auth).length === 0,
    'authorization records without a registration',
  );
  check(
    reg.nextRenewalAt === undefined || reg.certificate !== undefined,
    'an ID renewal scheduled without a certificate',
  );
  check(
    reg.nextRenewalAt === undefined || reg.certificate === undefined || reg.nextRenewalAt < reg.certificate.expiresAt,
    'an ID renewal scheduled at or after the certificate expires',
  );
  check(reg.certificate === undefined || now < reg.certificate.expiresAt, 'an expired ID certificate still held');
  check(auth.expiredAt === undefined || auth.grant !== undefined, 'AUTHORIZATION EXPIRED without a grant');
  check(
    auth.grant === undefined || auth.expiredAt !== undefined || now < auth.grant.expiresAt,
    'a grant past its deadline not marked expired',
  );
  check(ev.usedMs >= 0 && ev.usedMs <= EVALUATION_PERIOD_MS, 'evaluation time used out of range');
  check(
    (ev.runningSince !== undefined) === evaluationShouldRun(state),
    'the evaluation clock runs exactly while it should',
  );
  check(ev.expiredAt === undefined || ev.usedMs === EVALUATION_PERIOD_MS, 'an expired evaluation with time left');
  check(state.clock.agentTime >= state.clock.wallTime, 'agent time behind the wall clock mark');
  return problems;
}
