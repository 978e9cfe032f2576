// The public API of the agent. It re-exports what a host needs of the protocol to use it (a clock
// to inject, the error class and codes it may catch, time units), so a product depends on
// `@smartlic/agent` alone.
export {
  type Clock,
  DAY,
  type ErrorCode,
  HOUR,
  ManualClock,
  MINUTE,
  SECOND,
  SmartlicError,
  systemClock,
} from '@smartlic/protocol/core';
export type { ConversionReport } from './actions/convert.js';
export type { DestinationOptions, DestinationResult } from './actions/destination.js';
export { Agent, type AgentOpenOptions, type AgentOptions, DEFAULT_REQUEST_TIMEOUT_MS } from './agent.js';
export { EVALUATION_WARNING_DAYS } from './core/evaluation.js';
export { JITTER_CAP_MS, JITTER_FRACTION, RETRY_AFTER_SPREAD_MS } from './core/retry.js';
export { ALLOWED_STATES } from './core/state-table.js';
export { DEFAULT_PROFILE, defaultSoftwareTag } from './device-identity.js';
export type { AgentEnforcerOptions } from './enforcement/agent-enforcement.js';
export {
  CPS_SNAPSHOT_INTERVAL_MS,
  CPS_WINDOW_SNAPSHOTS,
  CpsLimiter,
  type CpsLimiterOptions,
  createCpsLimiter,
} from './enforcement/cps-limiter.js';
export { createEnforcer, type EnforcementState, Enforcer, type EnforcerOptions } from './enforcement/enforcer.js';
export type { LicenseSnapshot } from './enforcement/license-snapshot.js';
export {
  BUILT_IN_PROFILES,
  CATALYST_PROFILE,
  CLUSTER_CHANGES,
  type CountedResource,
  CUSP_PROFILE,
  type EnforcementDecision,
  type EnforcementProfile,
  EXPRESSWAY_PROFILE,
  EXPRESSWAY_RESOURCES,
  findProfile,
} from './enforcement/profiles.js';
export { type AcquireResult, LICENSE_LIMIT_EXCEEDED, limitAlarm } from './enforcement/resource-counter.js';
export {
  DEFAULT_EVENT_LOG_LIMITS,
  EVENT_LOG_FILE,
  EVENT_LOG_PREVIOUS_FILE,
  EventLog,
  type EventLogLimits,
  formatEventLogLine,
  readEventLog,
} from './event-log/event-log.js';
export { AGENT_EVENTS, type AgentEvent, type AgentEventType, formatEvent } from './events.js';
export type { Outcome, OutcomeAction } from './outcome.js';
export type { PolicyStatus } from './policy/policy-status.js';
export type { ReservationAction } from './reservation/agent-reservation.js';
export type { ReservationStep } from './reservation/reservation-book.js';
export type { ReservationStatus } from './reservation/reservation-status.js';
export type {
  AttemptResult,
  AuthorizationStatus,
  DeviceIdentity,
  RegistrationStatus,
  UsageStatus,
} from './state/agent-state.js';
export { LOCK_FILE, type LockHolder } from './state/state-lock.js';
export type { AgentStatus, StatusAttempt } from './status/agent-status.js';
export { formatAll, formatStatus, formatSummary, formatUsage } from './status/format-status.js';
export { formatDate, formatDuration } from './time-format.js';
export { isSatelliteUrl, type TransportType, transportType } from './transport/transport-type.js';
