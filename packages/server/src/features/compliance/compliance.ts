import { type ComplianceStatus, DEFAULT_TIMERS } from '@smartlic/protocol';

/** Licenses of one tag in one VA: active quantity and the total in use. */
export interface TagBalance {
  quantity: number;
  inUse: number;
  /** Set when the license hierarchy was applied (see `allocation.ts`); otherwise quantity − inUse. */
  surplus?: number;
}

/** The alert a shortage raises (SPEC §2). */
export const INSUFFICIENT_LICENSES = 'Insufficient Licenses';

/** Surplus (+) or shortage (−) of a tag. */
export function surplusOf(balance: TagBalance | undefined): number {
  return balance?.surplus ?? (balance?.quantity ?? 0) - (balance?.inUse ?? 0);
}

/** Alerts of a tag's balance. */
export function alertsOf(balance: TagBalance): string[] {
  return surplusOf(balance) < 0 ? [INSUFFICIENT_LICENSES] : [];
}

/**
 * Status of one entitlement an instance requests: a count of zero uses nothing and is
 * always in compliance; otherwise it is out of compliance when the VA's balance of the
 * tag is negative (the instance shares the shortage with every other user of the tag).
 */
export function entitlementStatus(count: number, balance: TagBalance | undefined): ComplianceStatus {
  return count > 0 && surplusOf(balance) < 0 ? 'OutOfCompliance' : 'InCompliance';
}

/** Overall status: out of compliance when any entitlement is. */
export function overallStatus(statuses: Iterable<ComplianceStatus>): ComplianceStatus {
  for (const status of statuses) if (status === 'OutOfCompliance') return 'OutOfCompliance';
  return 'InCompliance';
}

/** Status of an instance in the admin list; `NoUsage` when it uses nothing. */
export type InstanceComplianceStatus = ComplianceStatus | 'NoUsage';

export function instanceStatus(
  usage: ReadonlyArray<{ tag: string; count: number }>,
  balances: ReadonlyMap<string, TagBalance>,
): InstanceComplianceStatus {
  const used = usage.filter((u) => u.count > 0);
  if (used.length === 0) return 'NoUsage';
  return overallStatus(used.map((u) => entitlementStatus(u.count, balances.get(u.tag))));
}

/** How soon a device retries a failed renewal, by the status it was last given (SPEC §5). */
export function retryIntervalFor(status: ComplianceStatus): number {
  return status === 'InCompliance'
    ? DEFAULT_TIMERS.authRetryAuthorizedMs
    : DEFAULT_TIMERS.authRetryOutOfComplianceFastMs;
}
