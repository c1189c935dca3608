/**
 * The DCS could not be read this cycle (Patroni's _handle_dcs_error). The view is stale, so no
 * lock is taken or renewed and nothing is promoted. A running primary demotes 'offline' (fast
 * stop, key left alone, restart read-only) because it can no longer prove it holds the lock;
 * replicas keep running.
 */
import type { RuleContext } from './context.js';
import { noAction, plan, type Rule } from './context.js';

/**
 * Hook for failsafe mode (a later issue): true when the primary may keep running because every
 * member listed in /failsafe accepted it. Until failsafe is built it always answers false.
 */
export function failsafeKeepsPrimary(_ctx: RuleContext): boolean {
  return false;
}

/** DCS error text can be long (stack-like); keep reasons one readable line. */
function shortError(err: string): string {
  const line = err.split('\n')[0] ?? '';
  return line.length > 160 ? `${line.slice(0, 157)}...` : line;
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
    return noAction(`${base}: continuing as primary because failsafe mode is on and all members are accessible`);
  }
  return plan([{ kind: 'demote', mode: 'offline' }], `${base}: demoting to read-only because I cannot confirm the leader lock`, 'demoted');
};
