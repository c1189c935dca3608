/**
 * The DCS could not be read this cycle (Patroni's _handle_dcs_error). The view is stale, so no
 * lock is taken or renewed and nothing is promoted. A running primary demotes 'offline' (fast
 * stop, key left alone, restart read-only) because it can no longer prove it holds the lock,
 * unless failsafe mode is on and every member listed in /failsafe confirmed it this cycle
 * (local.failsafe, gathered by the agent). Replicas keep running.
 */
import type { RuleContext } from './context.js';
import { noAction, plan, type Rule } from './context.js';

/**
 * Failsafe mode is on, I held the lock in the last view I read, and this cycle's POST /failsafe
 * round was confirmed by every listed member.
 */
export function failsafeKeepsPrimary(ctx: RuleContext): boolean {
  return ctx.settings.failsafeMode && ctx.local.holdsLock && ctx.ownsKey && ctx.local.failsafe?.ok === true;
}

/** DCS error text can be long (stack-like); keep reasons one readable line. */
function shortError(err: string): string {
  const line = err.split('\n')[0] ?? '';
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
}

/** Why failsafe did not keep us primary, as a clause ending the reason. */
function failsafeClause(ctx: RuleContext): string {
  if (!ctx.settings.failsafeMode) return 'I cannot confirm the leader lock (failsafe_mode is off)';
  const round = ctx.local.failsafe;
  if (round === null || !ctx.local.holdsLock || !ctx.ownsKey) return 'I cannot confirm the leader lock and failsafe cannot help (I did not hold a valid lock)';
  return `failsafe: ${round.detail}`;
}

export const dcsUnavailableRule: Rule = (ctx) => {
  const err = ctx.local.dcsError;
  if (err === null) return null;
  const base = `DCS is not accessible (${shortError(err)})`;
  if (!ctx.runningPrimary) return noAction(`${base}: I am (${ctx.me}), not a primary, so I keep running as I am`);
  if (ctx.settings.pause) {
    return noAction(`${base}: paused, so the primary keeps running until its lease deadline`);
  }
  if (failsafeKeepsPrimary(ctx)) {
    return noAction(`${base}: continuing as primary because ${ctx.local.failsafe?.detail ?? ''} (failsafe mode)`, 'primary');
  }
  return plan([{ kind: 'demote', mode: 'offline' }], `${base}: demoting to read-only because ${failsafeClause(ctx)}`, 'demoted');
};
