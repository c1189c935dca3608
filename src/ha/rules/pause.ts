/**
 * Pause (maintenance mode): no automatic promote, demote, start or stop. The leader keeps its
 * lock; a running primary may take a free lock; an operator's failover request naming this node
 * is still honoured (Patroni allows manual failover to a named candidate in pause).
 * Runs after pgNotRunning, so PostgreSQL is running here.
 */
import type { Action } from '../types.js';
import { activeFailover, inSync, isNoFailover, promoteActions, syncAllowed } from './facts.js';
import { noAction, plan, type Rule, type RuleContext } from './context.js';

function pausedNoLeader(ctx: RuleContext) {
  const init = ctx.view.initialize?.value;
  if (ctx.runningPrimary) {
    // Patroni: in pause the running primary takes the lock only if the data is this cluster's.
    if (init && init !== ctx.local.pg.sysid) return noAction(`paused: not taking the leader lock because the initialize key ${init} is not my system ID ${String(ctx.local.pg.sysid)}`);
    return plan([{ kind: 'acquire-lock' }], 'paused: taking the free leader lock because I am the running primary', 'primary');
  }
  const f = activeFailover(ctx);
  if (f?.member === ctx.me && !isNoFailover(ctx.local.tags) && inSync(syncAllowed(ctx), ctx.me)) {
    const actions: Action[] = [{ kind: 'acquire-lock' }, { kind: 'clear-failover' }, ...promoteActions(ctx)];
    return plan(actions, 'paused, but I am the candidate named in the failover key: taking the lock and promoting', 'primary');
  }
  return noAction('paused: the cluster has no leader but automatic failover is off', 'replica');
}

export const pauseRule: Rule = (ctx) => {
  if (!ctx.settings.pause) return null;
  if (ctx.leaderName === null) return pausedNoLeader(ctx);
  // The lock holder and the followers behave as usual; leader-side and follower-side are pause-aware.
  return null;
};
