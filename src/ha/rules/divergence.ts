/**
 * A node whose timeline diverged from the leader's (ha-cycle.md §2.5): pg_rewind when allowed,
 * else wipe and clone again when the config allows that, else stay as it is and say why.
 * Never start a diverged node as a replica: it would replay WAL of a timeline it is not a child of.
 */
import type { Decision } from '../types.js';
import { noAction, plan, type RuleContext } from './context.js';

/** The plan for a diverged or rewind-failed node that should follow `leader`, or null if neither. */
export function divergenceDecision(ctx: RuleContext, leader: string): Decision | null {
  const needsRewind = ctx.local.pg.needsRewind === true;
  const rewindFailed = ctx.local.rewindFailed;
  if (!needsRewind && !rewindFailed) return null;
  const s = ctx.settings;
  if (s.pause) return noAction(`my timeline diverged from leader ${leader} but the cluster is paused: not rewinding or reinitializing`);
  if (rewindFailed) {
    if (s.removeDataDirectoryOnRewindFailure || s.removeDataDirectoryOnDivergedTimelines) {
      const key = s.removeDataDirectoryOnRewindFailure ? 'remove_data_directory_on_rewind_failure' : 'remove_data_directory_on_diverged_timelines';
      return plan([{ kind: 'reinit', from: leader }], `reinitializing from ${leader}: pg_rewind failed and ${key} is set`, 'replica');
    }
    return noAction(`not following leader ${leader}: pg_rewind against it failed and remove_data_directory_on_rewind_failure is off (reinitialize this node by hand)`);
  }
  if (s.useRewind) {
    return plan([{ kind: 'rewind', from: leader }], `rewinding from ${leader}: my timeline diverged from the leader's`, 'replica');
  }
  if (s.removeDataDirectoryOnDivergedTimelines) {
    return plan([{ kind: 'reinit', from: leader }], `reinitializing from ${leader} due to diverged timelines (use_pg_rewind is off, remove_data_directory_on_diverged_timelines is on)`, 'replica');
  }
  return noAction(`not following leader ${leader}: my timeline diverged from it and neither use_pg_rewind nor remove_data_directory_on_diverged_timelines is set`);
}
