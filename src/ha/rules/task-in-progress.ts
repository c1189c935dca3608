/**
 * An async job (clone, bootstrap, rewind, reinit, restart, start, stop, promote) is still running
 * (Patroni's handle_long_action_in_progress). The leader keeps its lock alive meanwhile; a primary
 * that lost the lock stops at once; everyone else waits for the job.
 */
import { failoverTarget } from './facts.js';
import { noAction, plan, type Rule, type RuleContext } from './context.js';

/** Crash restart of the primary that ran past primary_start_timeout, with someone able to take over. */
function startTimedOut(ctx: RuleContext): string | null {
  const { task, crashedAt } = ctx.local;
  if (task?.kind !== 'start' || crashedAt === null || ctx.settings.pause) return null;
  const elapsedS = (ctx.now.mono - crashedAt) / 1000;
  if (elapsedS <= ctx.settings.primaryStartTimeoutSeconds) return null;
  const target = failoverTarget(ctx);
  if (target.name === null) return null;
  return `restarting the crashed primary took ${elapsedS.toFixed(1)} s, more than primary_start_timeout ${ctx.settings.primaryStartTimeoutSeconds} s, and ${target.why}`;
}

export const taskInProgressRule: Rule = (ctx) => {
  const task = ctx.local.task;
  if (task === null) return null;
  // Reasons repeated every cycle carry no running clock, so the decision log keeps one entry.
  if (ctx.ownsKey) {
    const timedOut = startTimedOut(ctx);
    if (timedOut) return plan([{ kind: 'demote', mode: 'immediate' }], `demoting: ${timedOut}`, 'demoted');
    return plan([{ kind: 'renew-lock' }], `updated leader lock during ${task.kind}`);
  }
  // A bootstrapping node runs as primary before it takes the key: that is expected, not a lost lock.
  if (ctx.runningPrimary && task.kind !== 'bootstrap' && !ctx.settings.pause) {
    const holder = ctx.leaderName ? `${ctx.leaderName} holds the leader lock` : 'nobody holds the leader lock';
    return plan([{ kind: 'demote', mode: 'immediate-nolock' }], `demoting: lost the leader lock during ${task.kind} (${holder})`, 'demoted');
  }
  return noAction(`${task.kind} in progress`);
};
