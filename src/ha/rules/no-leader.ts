/**
 * Nobody holds the leader lock (Patroni's process_unhealthy_cluster): the healthiest node takes
 * it and promotes; everyone else stays a replica and says who or what stopped it. The new leader
 * clears the failover key right after taking the lock, so the request is not acted on twice.
 */
import type { Action } from '../types.js';
import { activeFailover, promoteActions } from './facts.js';
import { healthiestVerdict } from './healthiest.js';
import { noAction, plan, type Rule } from './context.js';

export const noLeaderRule: Rule = (ctx) => {
  if (ctx.leaderName !== null) return null;
  const verdict = healthiestVerdict(ctx);
  if (verdict.kind === 'yes') {
    const actions: Action[] = [{ kind: 'acquire-lock' }];
    if (ctx.view.failover !== null && activeFailover(ctx) !== null) actions.push({ kind: 'clear-failover' });
    if (ctx.runningPrimary) {
      return plan(actions, `acquiring the leader lock as the healthiest node: ${verdict.why}`, 'primary');
    }
    actions.push(...promoteActions(ctx));
    return plan(actions, `promoting: the cluster has no leader and I am the healthiest node (${verdict.why})`, 'primary');
  }
  const why = verdict.why;
  const because = verdict.notAllowed ? 'I am not allowed to promote' : 'I am not the healthiest node';
  if (ctx.runningPrimary) {
    // A writable node that may not lead must stop taking writes before someone else promotes.
    return plan([{ kind: 'demote', mode: 'immediate-nolock' }], `demoting: the cluster has no leader and ${because}: ${why}`, 'demoted');
  }
  return noAction(`following a different leader because ${because}: ${why}`, 'replica');
};
