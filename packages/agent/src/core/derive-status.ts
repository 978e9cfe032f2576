import type { AgentState, AuthorizationStatus, UsageEntry, UsageStatus } from '../state/agent-state.js';

/**
 * The authorization status word of a settled state (SPEC §5): no usage → NO LICENSES IN USE;
 * registered with a grant → AUTHORIZED / OUT OF COMPLIANCE / AUTHORIZATION EXPIRED; otherwise
 * the device runs on its evaluation period → EVAL MODE / EVAL EXPIRED.
 */
export function authorizationStatus(state: AgentState): AuthorizationStatus {
  if (state.usage.length === 0) return 'NO LICENSES IN USE';
  const grant = state.authorization.grant;
  if (state.registration.certificate && grant) {
    if (state.authorization.expiredAt !== undefined) return 'AUTHORIZATION EXPIRED';
    return grant.compliance === 'InCompliance' ? 'AUTHORIZED' : 'OUT OF COMPLIANCE';
  }
  return state.evaluation.expiredAt === undefined ? 'EVAL MODE' : 'EVAL EXPIRED';
}

/** The status of one tag in use: the overall evaluation/expiry status, or what the authority granted it. */
export function usageStatus(state: AgentState, entry: UsageEntry): UsageStatus {
  const overall = authorizationStatus(state);
  if (overall === 'EVAL MODE' || overall === 'EVAL EXPIRED' || overall === 'AUTHORIZATION EXPIRED') return overall;
  const granted = state.authorization.grant?.entitlements.find((e) => e.tag === entry.tag);
  if (!granted || granted.requested < entry.count) return 'NOT AUTHORIZED';
  return granted.status === 'InCompliance' ? 'AUTHORIZED' : 'OUT OF COMPLIANCE';
}

/** The UDI as the vendor prints it in events: `PID:C9300-24UX,SN:FCW2134L0RN`. */
export function udiText(state: AgentState): string {
  return `PID:${state.identity.pid},SN:${state.identity.sn}`;
}
