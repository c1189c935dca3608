/**
 * Data directory present: it must belong to this cluster (Patroni checks the initialize key
 * against the local system identifier), and a cluster without an initialize key adopts the data
 * of a node that can start as its primary.
 */
import type { Action } from '../types.js';
import { noAction, type Rule, type RuleContext } from './context.js';

export const sysidRule: Rule = (ctx) => {
  const sysid = ctx.local.pg.sysid;
  if (sysid === null) {
    return noAction(`my data directory has no readable system identifier: consider reinitializing this node (${ctx.me})`, 'uninitialized');
  }
  const init = ctx.view.initialize?.value;
  // '' means a bootstrap winner is still running initdb: nothing to compare yet.
  if (init !== undefined && init !== '' && init !== sysid) {
    return noAction(
      `system ID mismatch: the cluster's initialize key is ${init} but my data directory has ${sysid}; refusing to join (reinitialize this node or check the scope)`,
    );
  }
  if (init === undefined && ctx.leaderName === null && !ctx.settings.pause && ctx.runningReplica) {
    return noAction(
      'not adopting existing data: PostgreSQL runs as a replica and the cluster has no initialize key, so a primary must start first',
    );
  }
  return null;
};

/**
 * write-initialize(local sysid) when the cluster has no initialize key and no leader and my data
 * can seed it (PostgreSQL is a primary or stopped). decide() puts it in front of the rest of the plan.
 */
export function adoptDataAction(ctx: RuleContext): Extract<Action, { kind: 'write-initialize' }> | null {
  const sysid = ctx.local.pg.sysid;
  if (sysid === null || ctx.view.initialize !== null || ctx.leaderName !== null || ctx.settings.pause) return null;
  if (ctx.runningReplica) return null;
  return { kind: 'write-initialize', sysid };
}
