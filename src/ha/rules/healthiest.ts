/**
 * Am I the healthiest node to take the free leader lock? (Patroni's is_healthiest_node.)
 * Checks, in order: my own eligibility (tags, /sync, /failsafe), a running primary's timeline, the failover
 * key, my lag behind the last known leader position, the timeline, then every reachable peer's
 * /patroni answer: a peer still running as primary, a peer ahead of me, or an equal peer with a
 * higher failover_priority each stop me. The verdict's `why` names the deciding fact.
 */
import { clusterLastLsn, clusterTimeline } from '../../dcs/types.js';
import { activeFailover, failoverPriority, formatBytes, inSync, isNoFailover, syncAllowed } from './facts.js';
import { manualFailoverNoLeader, type Verdict } from './manual-failover-no-leader.js';
import type { RuleContext } from './context.js';

function eligibility(ctx: RuleContext): Exclude<Verdict, { kind: 'compare' }> | null {
  const tags = ctx.local.tags;
  if (tags.nofailover === true) return { kind: 'no', why: 'I am tagged nofailover', notAllowed: true };
  if (isNoFailover(tags)) return { kind: 'no', why: `my failover_priority is ${String(tags.failover_priority)}`, notAllowed: true };
  if (ctx.runningPrimary) {
    const tl = ctx.local.pg.timeline ?? 0;
    const clusterTl = clusterTimeline(ctx.view);
    // A stale primary (woken from a stall) must not retake the lock over a newer timeline.
    if (ctx.view.history !== null && tl < clusterTl) return { kind: 'no', why: `I am a primary on timeline ${tl}, behind the cluster's timeline ${clusterTl}` };
    return { kind: 'yes', why: 'I am still running as a primary' };
  }
  if (!inSync(syncAllowed(ctx), ctx.me)) return { kind: 'no', why: 'I am not a synchronous standby listed in /sync', notAllowed: true };
  // Patroni: in failsafe mode only members the last leader listed may win (a new node, or one
  // restored from a backup, knows nothing the old primary may have acknowledged meanwhile).
  const listed = ctx.view.failsafe;
  if (ctx.settings.failsafeMode && listed !== null && Object.keys(listed).length > 0 && !(ctx.me in listed)) {
    return { kind: 'no', why: 'I am not in the /failsafe member list (failsafe mode)', notAllowed: true };
  }
  return null;
}

function ownPosition(ctx: RuleContext, checkLag: boolean): Exclude<Verdict, { kind: 'compare' }> | null {
  const mine = ctx.local.pg.walPosition;
  if (mine === null) return { kind: 'no', why: 'my WAL position is unknown' };
  const last = clusterLastLsn(ctx.view);
  const max = ctx.settings.maximumLagOnFailover;
  if (checkLag && last - mine > max) {
    return { kind: 'no', why: `my lag ${formatBytes(last - mine)} exceeds maximum_lag_on_failover ${formatBytes(max)} (leader was at ${last}, I am at ${mine})` };
  }
  const tl = ctx.local.pg.timeline ?? 0;
  if (ctx.settings.checkTimeline && ctx.view.history !== null && tl < clusterTimeline(ctx.view)) {
    return { kind: 'no', why: `my timeline ${tl} is behind the cluster's timeline ${clusterTimeline(ctx.view)} (check_timeline is on)` };
  }
  return null;
}

/** The first reachable, failover-capable peer that beats me, compared by name order. */
function peerAhead(ctx: RuleContext, exclude: string | null, mine: number): string | null {
  const allowed = syncAllowed(ctx);
  const formerLeader = ctx.view.sync?.value.leader ?? null;
  const myPriority = failoverPriority(ctx.local.tags);
  const names = [...ctx.local.peers.keys()].sort();
  for (const name of names) {
    const p = ctx.local.peers.get(name);
    if (!p || name === ctx.me) continue;
    // Any writable peer blocks us, whatever its tags: never two writable primaries.
    if (p.state === 'running' && !p.inRecovery) return `primary ${name} is still alive`;
    if (name === exclude || isNoFailover(p.tags)) continue;
    if (!inSync(allowed, name)) continue;
    // In sync mode the former leader may be ahead of every standby without blocking them.
    if (p.walPosition > mine && !(allowed !== null && name === formerLeader)) {
      return `${name} has a higher WAL position (${p.walPosition} > ${mine})`;
    }
    const prio = failoverPriority(p.tags);
    if (p.walPosition === mine && prio > myPriority) {
      return `${name} has the same WAL position (${mine}) and a higher failover_priority (${prio} > ${myPriority})`;
    }
  }
  return null;
}

/** The leader-race verdict; never 'compare' (that is resolved here). */
export function healthiestVerdict(ctx: RuleContext): Exclude<Verdict, { kind: 'compare' }> {
  const own = eligibility(ctx);
  if (own) return own;
  let exclude: string | null = null;
  let checkLag = true;
  const f = activeFailover(ctx);
  if (f) {
    const manual = manualFailoverNoLeader(ctx, f);
    if (manual.kind !== 'compare') return manual;
    exclude = manual.exclude;
    checkLag = false;
  }
  const pos = ownPosition(ctx, checkLag);
  if (pos) return pos;
  const mine = ctx.local.pg.walPosition ?? 0;
  const ahead = peerAhead(ctx, exclude, mine);
  if (ahead) return { kind: 'no', why: ahead };
  return { kind: 'yes', why: `no reachable member is ahead of my WAL position ${mine}` };
}
