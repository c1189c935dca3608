/**
 * Nobody holds the leader lock (Patroni's process_unhealthy_cluster): the healthiest node takes
 * it and promotes; everyone else stays a replica and says who or what stopped it. The new leader
 * clears the failover key right after taking the lock, so the request is not acted on twice.
 *
 * Failsafe mode: a primary that lost the DCS keeps running while its peers confirm it over POST
 * /failsafe. For ttl after the last such POST we accepted, that sender is the leader as far as this
 * node is concerned (Patroni injects it into the view): nobody races it, nobody promotes.
 */
import type { Action, Decision } from '../types.js';
import { activeFailover, promoteActions } from './facts.js';
import { healthiestVerdict } from './healthiest.js';
import { noAction, plan, type Rule, type RuleContext } from './context.js';

/** The failsafe sender still counts as leader (within ttl of its last accepted POST): what to do. */
function failsafeLeaderHolds(ctx: RuleContext): Decision | null {
  const sender = ctx.local.failsafeSender;
  if (!ctx.settings.failsafeMode || sender === null || sender.name === ctx.me) return null;
  const agoMs = ctx.now.mono - sender.receivedAt;
  if (agoMs >= ctx.settings.ttlSeconds * 1000) return null;
  const why = `${sender.name} confirmed over POST /failsafe ${(agoMs / 1000).toFixed(1)} s ago that it runs as primary (failsafe mode, ttl ${ctx.settings.ttlSeconds} s)`;
  if (ctx.runningPrimary) {
    return plan([{ kind: 'demote', mode: 'immediate-nolock' }], `demoting: the cluster has no leader key but ${why}`, 'demoted');
  }
  return noAction(`not racing for the leader lock: ${why}`, 'replica');
}

export const noLeaderRule: Rule = (ctx) => {
  if (ctx.leaderName !== null) return null;
  const held = failsafeLeaderHolds(ctx);
  if (held) return held;
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
