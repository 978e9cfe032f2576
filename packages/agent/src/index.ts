export type { DestinationResult } from './actions/destination.js';
export { Agent, type AgentOptions, DEFAULT_REQUEST_TIMEOUT_MS } from './agent.js';
export { DEFAULT_PROFILE, defaultSoftwareTag } from './device-identity.js';
export { AGENT_EVENTS, type AgentEvent, type AgentEventType, formatEvent } from './events.js';
export type { Outcome, OutcomeAction } from './outcome.js';
export type {
  AttemptResult,
  AuthorizationStatus,
  DeviceIdentity,
  RegistrationStatus,
  UsageStatus,
} from './state/agent-state.js';
export type { AgentStatus, StatusAttempt } from './status/agent-status.js';
export { formatAll, formatStatus, formatSummary, formatUsage } from './status/format-status.js';
export { formatDate, formatDuration } from './time-format.js';
