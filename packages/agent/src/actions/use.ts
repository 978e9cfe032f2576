import { COUNT_MAX, checkTag, parseWith, TAG_CHARACTERS, TAG_MAX } from '@smartlic/protocol/core';
import { authorizationStatus } from '../core/derive-status.js';
import type { Outcome } from '../outcome.js';
import type { AgentRuntime } from '../runtime.js';
import { authorize } from './authorize.js';

/**
 * Why a declared use is refused, as the outcome of `use`, or undefined when `tag` is a valid tag and
 * `count` a whole number from 0 to the protocol's limit. Both models check a declaration with it.
 */
export function refusedUse(tag: string, count: number): Outcome | undefined {
  const refuse = (message: string): Outcome => ({ action: 'use', ok: false, code: 'BAD_REQUEST', message });
  if (!parseWith(checkTag, tag).ok) return refuse(`The entitlement tag must be 1–${TAG_MAX} ${TAG_CHARACTERS}.`);
  if (!Number.isInteger(count) || count < 0 || count > COUNT_MAX) {
    return refuse(`The count must be a whole number from 0 to ${COUNT_MAX}.`);
  }
  return undefined;
}

/**
 * The product declares `count` of `tag` in use (0 removes the tag). A registered device asks
 * the authority at once; an unidentified one runs on its evaluation period.
 */
export async function declareUsage(rt: AgentRuntime, tag: string, count: number): Promise<Outcome> {
  const refused = refusedUse(tag, count);
  if (refused) return refused;
  await rt.commit({ type: 'usage-set', tag, count });
  if (rt.state.registration.certificate) return authorize(rt);
  const declared = count === 0 ? `${tag} is no longer in use` : `${tag}: ${count} in use`;
  return { action: 'use', ok: true, message: `${declared}; authorization status ${authorizationStatus(rt.state)}.` };
}
