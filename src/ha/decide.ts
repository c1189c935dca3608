/**
 * decide(view, local, settings, now) -> Decision: the whole HA policy as a pure function.
 *
 * No I/O, no clock reads, no randomness: everything it knows arrives as arguments, so every
 * situation of the HA cycle (shared/reference/ha-cycle.md) is a row in a table-driven test.
 * The executor runs the returned actions in order and aborts the rest when one fails or loses a
 * race (see types.ts); therefore promote only ever follows acquire-lock or renew-lock in a plan.
 *
 * Rules are tried in order; the first that returns a Decision owns the cycle. The order encodes
 * priority: safety (lease deadline, DCS loss) before jobs in progress, before the data directory,
 * before PostgreSQL being down, before the lock race and the steady states.
 */
import type { ClusterView } from '../dcs/types.js';
import type { Decision, DecideFn, HaSettings, LocalFacts, MonoMs } from './types.js';
import { bootstrapRule } from './rules/bootstrap.js';
import { buildContext, noAction, plan, type Rule, type RuleContext } from './rules/context.js';
import { dcsUnavailableRule } from './rules/dcs-unavailable.js';
import { followerSideRule } from './rules/follower-side.js';
import { adoptDataAction, sysidRule } from './rules/initialize-key.js';
import { leaderSideRule } from './rules/leader-side.js';
import { leaseDeadlineRule } from './rules/lease-deadline.js';
import { noLeaderRule } from './rules/no-leader.js';
import { pauseRule } from './rules/pause.js';
import { pgNotRunningRule } from './rules/pg-not-running.js';
import { taskInProgressRule } from './rules/task-in-progress.js';

/** Rules that run before the data directory is known to hold this cluster's data. */
const SAFETY_AND_SETUP: readonly Rule[] = [leaseDeadlineRule, dcsUnavailableRule, taskInProgressRule, bootstrapRule, sysidRule];

/** Rules for a node whose data belongs to the cluster. */
const STEADY: readonly Rule[] = [pgNotRunningRule, pauseRule, noLeaderRule, leaderSideRule, followerSideRule];

function firstDecision(rules: readonly Rule[], ctx: RuleContext): Decision | null {
  for (const rule of rules) {
    const d = rule(ctx);
    if (d) return d;
  }
  return null;
}

export const decide: DecideFn = (
  view: ClusterView,
  local: LocalFacts,
  settings: HaSettings,
  now: { mono: MonoMs; wall: number },
): Decision => {
  const ctx = buildContext(view, local, settings, now);
  const early = firstDecision(SAFETY_AND_SETUP, ctx);
  if (early) return early;
  const adopt = adoptDataAction(ctx);
  if (adopt === null) return firstDecision(STEADY, ctx) ?? noAction(`no action: I am (${ctx.me}) and no rule applies`);
  // Adopting existing data: decide the rest as if the initialize key were already written,
  // since the executor aborts the plan if that write loses a race.
  const adopted = buildContext({ ...view, initialize: { value: adopt.sysid, version: '0' } }, local, settings, now);
  const rest = firstDecision(STEADY, adopted) ?? noAction('no further action');
  return plan([adopt, ...rest.actions], `adopting existing data as system ${adopt.sysid}; ${rest.reason}`, rest.role);
};
