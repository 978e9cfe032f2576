/**
 * The agent's events, named like the vendor's syslog lines (`%SMART_LIC-6-AGENT_REG_SUCCESS`).
 * Each entry has its syslog severity (2 critical, 3 error, 4 warning, 5 notice, 6 info).
 */
export const AGENT_EVENTS = {
  AGENT_ENABLED: 6,
  AGENT_REG_SUCCESS: 6,
  AGENT_REG_FAILED: 3,
  AGENT_DEREG_SUCCESS: 6,
  AGENT_DEREG_FAILED: 3,
  COMM_FAILED: 3,
  COMM_RESTORED: 5,
  EXPORT_CONTROLLED: 6,
  IN_COMPLIANCE: 5,
  OUT_OF_COMPLIANCE: 3,
  AUTH_RENEW_SUCCESS: 6,
  AUTH_RENEW_FAILED: 3,
  AUTHORIZATION_EXPIRED: 3,
  ID_CERT_RENEW_SUCCESS: 6,
  ID_CERT_RENEW_FAILED: 3,
  ID_CERT_EXPIRED: 3,
  /** The authority no longer recognises the device's certificates (seed 003 #6): the registration is dropped. */
  ID_CERT_REJECTED: 3,
  EVAL_START: 5,
  EVAL_WILL_EXPIRE_WARNING: 4,
  EVAL_EXPIRED: 2,
  CLOCK_BACKWARDS: 4,
  TRUSTPOINT_PINNED: 6,
  CONFIG_NOT_SAVED: 4,
  /** Enforcement: a counted resource was refused at its licensed count (seed 002's alarm). */
  LICENSE_LIMIT_REACHED: 4,
  /** Enforcement: the 5-minute calls-per-second average rose above the licensed rate. */
  CPS_LIMIT_EXCEEDED: 4,
  /** Enforcement: calls were rejected during the last snapshot interval (the failed-call log). */
  CPS_CALLS_REJECTED: 5,
  /** Enforcement: the average fell back within the licensed rate; calls are accepted again. */
  CPS_LIMIT_CLEARED: 5,
  /** Policy model: a trust code was installed. */
  TRUST_INSTALL_SUCCESS: 6,
  /** Policy model: installing a trust code failed. */
  TRUST_INSTALL_FAILED: 3,
  /** Policy model: an ACK brought a policy different from the one in use. */
  POLICY_INSTALL_SUCCESS: 6,
  /** Policy model: an ACK was received (online or imported) and its reports are done. */
  ACK_RECEIVED: 6,
  /** Policy model: the ACK deadline passed without an ACK; the product keeps working unless its profile decides otherwise. */
  REPORTING_REQUIRED: 3,
  /** Policy model: reporting to the authority failed. */
  REPORTING_FAILED: 3,
  /** Policy model: a Smart Licensing Authorization Code was installed. */
  AUTHORIZATION_INSTALL_SUCCESS: 6,
  /** Policy model: a Smart Licensing Authorization Code was returned. */
  AUTHORIZATION_RETURN_SUCCESS: 6,
} as const satisfies Record<string, number>;

/** The short type of an agent event, e.g. `AGENT_REG_SUCCESS`. */
export type AgentEventType = keyof typeof AGENT_EVENTS;

/** One event the agent emits through `AgentOptions.onEvent`. */
export interface AgentEvent {
  /** The short type, e.g. `OUT_OF_COMPLIANCE`. */
  type: AgentEventType;
  /** The syslog-style name, e.g. `%SMART_LIC-3-OUT_OF_COMPLIANCE`. */
  name: string;
  /** Syslog severity: 2 critical, 3 error, 4 warning, 5 notice, 6 informational. */
  severity: number;
  /** When it happened (agent clock, ms since the epoch). */
  at: number;
  /** The human message, e.g. "One or more entitlements are out of compliance". */
  message: string;
}

/** Builds an event of `type` at `at` with its human `message`. */
export function agentEvent(type: AgentEventType, at: number, message: string): AgentEvent {
  const severity = AGENT_EVENTS[type];
  return { type, name: `%SMART_LIC-${severity}-${type}`, severity, at, message };
}

/** The event as one syslog-like line: `%SMART_LIC-6-AGENT_REG_SUCCESS: Smart Agent for Licensing …`. */
export function formatEvent(event: AgentEvent): string {
  return `${event.name}: ${event.message}`;
}
