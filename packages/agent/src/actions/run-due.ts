import { type DueAction, nextDueAction } from '../core/scheduler.js';
import type { Outcome } from '../outcome.js';
import type { AgentRuntime } from '../runtime.js';
import { authorize } from './authorize.js';
import { attemptRegistration } from './register.js';
import { renewId } from './renew-id.js';

const PERFORM: Record<DueAction, (rt: AgentRuntime) => Promise<Outcome>> = {
  register: attemptRegistration,
  'renew-id': renewId,
  authorize,
};

/**
 * Runs what is due now: first what time alone does (deadlines, expiries), then each due
 * exchange once, in order registration, ID renewal, authorization. Returns every outcome,
 * follow-ups flattened.
 */
export async function runDue(rt: AgentRuntime): Promise<Outcome[]> {
  const outcomes = await rt.commit({ type: 'tick' });
  const done = new Set<DueAction>();
  for (let action = nextDueAction(rt.state, rt.now()); action; action = nextDueAction(rt.state, rt.now(), done)) {
    done.add(action);
    outcomes.push(...flatten(await PERFORM[action](rt)));
  }
  return outcomes;
}

function flatten(outcome: Outcome): Outcome[] {
  const { followUps, ...own } = outcome;
  return [own, ...(followUps ?? []).flatMap(flatten)];
}
