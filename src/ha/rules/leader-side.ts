/**
 * A leader exists and it is me (Patroni's process_healthy_cluster with the lock): renew it, finish
 * a promotion after winning the race, act on the failover key, and keep the cluster keys that the
 * leader owns (config, initialize, history) written.
 */
import { clusterTimeline } from '../../dcs/types.js';
import type { Action } from '../types.js';
import { promoteActions } from './facts.js';
import { manualFailoverFromLeader } from './manual-failover-leader.js';
import { plan, type Rule, type RuleContext } from './context.js';

/** Keys the leader maintains; each is written after renew-lock has confirmed the lock. */
export function leaderUpkeep(ctx: RuleContext): Action[] {
  const out: Action[] = [];
  const sysid = ctx.local.pg.sysid;
  const init = ctx.view.initialize?.value;
  if ((init === undefined || init === '') && sysid !== null) out.push({ kind: 'write-initialize', sysid });
  if (ctx.view.config === null) out.push({ kind: 'write-config' });
  // Without /history the cluster is on timeline 1; a higher local timeline means a promotion to record.
  const known = ctx.view.history === null ? 1 : clusterTimeline(ctx.view);
  if (ctx.runningPrimary && (ctx.local.pg.timeline ?? 0) > known) out.push({ kind: 'update-history' });
  return out;
}

export const leaderSideRule: Rule = (ctx) => {
  if (!ctx.ownsKey) return null;
  if (ctx.runningReplica) {
    return plan([{ kind: 'renew-lock' }, ...promoteActions(ctx)], `promoting: I (${ctx.me}) hold the leader lock and PostgreSQL is still a replica`, 'primary');
  }
  const manual = manualFailoverFromLeader(ctx);
  if (manual) return manual;
  const prefix = ctx.settings.pause ? 'paused, ' : '';
  return plan([{ kind: 'renew-lock' }, ...leaderUpkeep(ctx)], `${prefix}no action: I am (${ctx.me}), the leader with the lock`, 'primary');
};
