/**
 * The failover/switchover key as seen by the leader (Patroni's process_manual_failover_from_leader):
 * wait for a scheduled time, drop stale or invalid requests, or demote gracefully so the candidate
 * can take over. Every plan starts with renew-lock: we only act on the key while the lock is ours.
 */
import type { Decision } from '../types.js';
import { activeFailover, failoverTarget } from './facts.js';
import { plan, type RuleContext } from './context.js';

const clear = (reason: string): Decision => plan([{ kind: 'renew-lock' }, { kind: 'clear-failover' }], `clearing the failover key: ${reason}`, 'primary');

/** Scheduled switchover: a decision to wait or to drop the key, or null to act now. */
function schedule(ctx: RuleContext, at: string): Decision | null {
  const when = Date.parse(at);
  if (Number.isNaN(when)) return clear(`scheduled_at "${at}" is not a valid ISO 8601 time`);
  if (ctx.settings.pause) return clear('a scheduled switchover is not allowed while the cluster is paused');
  const loopMs = ctx.settings.loopWaitSeconds * 1000;
  const aheadMs = when - ctx.now.wall;
  if (aheadMs > loopMs) {
    return plan([{ kind: 'renew-lock' }], `waiting for the switchover scheduled at ${at}, more than loop_wait (${ctx.settings.loopWaitSeconds} s) ahead`, 'primary');
  }
  if (-aheadMs > 1.5 * loopMs) {
    return clear(`the switchover scheduled at ${at} is ${Math.round(-aheadMs / 1000)} s overdue, more than 1.5 x loop_wait`);
  }
  return null;
}

/** What the leader does about the failover key, or null when the key asks nothing of it. */
export function manualFailoverFromLeader(ctx: RuleContext): Decision | null {
  const f = activeFailover(ctx);
  if (f === null || !ctx.runningPrimary) return null;
  if (f.scheduled_at) {
    const wait = schedule(ctx, f.scheduled_at);
    if (wait) return wait;
  }
  if (f.leader && f.leader !== ctx.me) return clear(`it names ${f.leader} as the leader but I (${ctx.me}) am the leader`);
  if (f.member === ctx.me) return clear(`its candidate ${ctx.me} is already the leader`);
  if (f.member && !ctx.view.members.has(f.member)) return clear(`its candidate ${f.member} is not a member of the cluster`);
  if (!f.member && ctx.settings.pause) return clear('the cluster is paused and the request names no candidate');
  const target = failoverTarget(ctx);
  if (target.name === null) return clear(`no member can take over (${target.why})`);
  return plan(
    [{ kind: 'renew-lock' }, { kind: 'demote', mode: 'graceful' }],
    `switchover: demoting gracefully so that ${target.name} can take over as requested by the failover key`,
    'demoted',
  );
}
