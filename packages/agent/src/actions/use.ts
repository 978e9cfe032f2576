import { checkTag, parseWith, TAG_CHARACTERS, TAG_MAX } from '@smartlic/protocol/core';
import { authorizationStatus } from '../core/derive-status.js';
import type { Outcome } from '../outcome.js';
import type { AgentRuntime } from '../runtime.js';
import { authorize } from './authorize.js';

/** Largest count one tag may declare (the protocol's limit). */
const MAX_COUNT = 1_000_000_000;

/**
 * The product declares `count` of `tag` in use (0 removes the tag). A registered device asks
 * the authority at once; an unidentified one runs on its evaluation period.
 */
export async function declareUsage(rt: AgentRuntime, tag: string, count: number): Promise<Outcome> {
  if (!parseWith(checkTag, tag).ok) {
    return {
      action: 'use',
      ok: false,
      code: 'BAD_REQUEST',
      message: `The entitlement tag must be 1–${TAG_MAX} ${TAG_CHARACTERS}.`,
    };
  }
  if (!Number.isInteger(count) || count < 0 || count > MAX_COUNT) {
    return {
      action: 'use',
      ok: false,
      code: 'BAD_REQUEST',
      message: `The count must be a whole number from 0 to ${MAX_COUNT}.`,
    };
  }
  await rt.commit({ type: 'usage-set', tag, count });
  if (rt.state.registration.certificate) return authorize(rt);
  const declared = count === 0 ? `${tag} is no longer in use` : `${tag}: ${count} in use`;
  return { action: 'use', ok: true, message: `${declared}; authorization status ${authorizationStatus(rt.state)}.` };
}
