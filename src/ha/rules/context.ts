/**
 * What every HA rule sees: the inputs of decide() plus a few facts derived once per cycle.
 *
 * A rule is a pure function `(ctx) => Decision | null`: it either owns the situation and returns
 * the whole plan, or returns null so the next rule in decide.ts gets to look. Rules never read a
 * clock, the network or the disk; `ctx.now` is the only time they know.
 */
import type { ClusterView, Member } from '../../dcs/types.js';
import type { Action, Decision, HaSettings, LocalFacts, MonoMs } from '../types.js';

export interface RuleContext {
  readonly view: ClusterView;
  readonly local: LocalFacts;
  readonly settings: HaSettings;
  readonly now: { readonly mono: MonoMs; readonly wall: number };
  /** My member name, for reasons ("I am (x)"). */
  readonly me: string;
  /** Name in the leader key, or null when the cluster is unlocked. */
  readonly leaderName: string | null;
  /**
   * The DCS view says the leader key is mine. Every plan built on this starts with renew-lock,
   * which confirms it (and aborts the plan if the key is not ours after all).
   */
  readonly ownsKey: boolean;
  /** Local PostgreSQL is running and not in recovery: it accepts writes. */
  readonly runningPrimary: boolean;
  /** Local PostgreSQL is running in recovery. */
  readonly runningReplica: boolean;
}

export type Rule = (ctx: RuleContext) => Decision | null;

export function buildContext(
  view: ClusterView,
  local: LocalFacts,
  settings: HaSettings,
  now: { mono: MonoMs; wall: number },
): RuleContext {
  const leaderName = view.leader?.member ?? null;
  return {
    view,
    local,
    settings,
    now,
    me: local.name,
    leaderName,
    ownsKey: leaderName !== null && leaderName === local.name,
    runningPrimary: local.pg.running && !local.pg.inRecovery,
    runningReplica: local.pg.running && local.pg.inRecovery,
  };
}

/** A plan with its one-sentence reason. */
export function plan(actions: readonly Action[], reason: string, role?: Decision['role']): Decision {
  return role === undefined ? { actions, reason } : { actions, reason, role };
}

/** No action this cycle; the reason says what we are waiting for. */
export function noAction(reason: string, role?: Decision['role']): Decision {
  return plan([], reason, role);
}

/** Members sorted by name, so every choice among them is deterministic. */
export function membersByName(ctx: RuleContext): Member[] {
  return [...ctx.view.members.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
