/**
 * A leader exists and it is not me (Patroni's process_healthy_cluster, lock held elsewhere):
 * a writable primary stops at once; a diverged node rewinds or reinitializes; a replica points
 * at the right upstream (the replicatefrom member when it runs, else the leader).
 */
import { memberRunning } from './facts.js';
import { divergenceDecision } from './divergence.js';
import { noAction, plan, type Rule, type RuleContext } from './context.js';

/** Whom a replica streams from: a running replicatefrom member (cascading), else the leader. */
export function upstreamFor(ctx: RuleContext, leader: string): string {
  const via = ctx.local.tags.replicatefrom;
  if (typeof via === 'string' && via !== ctx.me && via !== leader && memberRunning(ctx.view.members.get(via))) return via;
  return leader;
}

export const followerSideRule: Rule = (ctx) => {
  const leader = ctx.leaderName;
  if (leader === null || ctx.ownsKey) return null;
  if (ctx.runningPrimary) {
    if (ctx.settings.pause) return noAction(`paused: running as a primary without the lock while ${leader} holds it; not demoting`);
    return plan([{ kind: 'demote', mode: 'immediate-nolock' }], `demoting: I am a running primary but ${leader} holds the leader lock`, 'demoted');
  }
  const diverged = divergenceDecision(ctx, leader);
  if (diverged) return diverged;
  const upstream = upstreamFor(ctx, leader);
  const via = upstream === leader ? `the leader ${leader}` : `${upstream} per my replicatefrom tag (the leader is ${leader})`;
  const current = ctx.local.pg.following;
  if (current !== upstream) {
    const was = current === null ? 'I had no upstream' : `instead of ${current}`;
    return plan([{ kind: 'follow', leader: upstream }], `following ${via}; ${was}`, 'replica');
  }
  const steady = upstream === leader ? `a leader (${leader})` : `(${upstream}) per my replicatefrom tag; the leader is ${leader}`;
  return noAction(`no action: I am (${ctx.me}), a secondary, and following ${steady}`, 'replica');
};
