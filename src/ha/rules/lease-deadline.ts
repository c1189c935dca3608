/**
 * Safety rule: never two writable primaries. A primary's right to take writes ends at its own
 * lease deadline (last confirmed renewal + ttl - safety margin, on the local monotonic clock).
 * Once it has passed, a running primary stops at once, whatever the (possibly stale) view, the
 * DCS error state or pause says: another node may already have taken the expired key.
 */
import { noAction, plan, type Rule } from './context.js';

export const leaseDeadlineRule: Rule = (ctx) => {
  const deadline = ctx.local.leaseDeadline;
  if (deadline === null || ctx.now.mono < deadline) return null;
  if (!ctx.local.holdsLock && !ctx.ownsKey) return null;
  const overdue = Math.round(ctx.now.mono - deadline);
  if (ctx.runningPrimary) {
    return plan(
      [{ kind: 'demote', mode: 'immediate-nolock' }],
      `demoting: my leader lease expired ${overdue} ms ago (deadline passed without a confirmed renewal), so another node may hold the lock`,
      'demoted',
    );
  }
  if (ctx.local.dcsError !== null) {
    return noAction(`not acting as leader: my leader lease expired ${overdue} ms ago and the DCS is not accessible`);
  }
  // Not writable: nothing to fence. Later rules start with renew-lock, which re-confirms the key.
  return null;
};
