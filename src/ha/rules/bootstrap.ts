/**
 * Empty data directory (Patroni's bootstrap()): race for the initialize key and run initdb, wait
 * for the race winner, or clone a replica from a running clonefrom member or the leader.
 * An 'invalid' data directory (files but no readable pg_control) is left for the operator.
 */
import { isNoFailover, memberRunning } from './facts.js';
import { membersByName, noAction, plan, type Rule, type RuleContext } from './context.js';

/** First running member tagged clonefrom (by name, for determinism), else the leader. */
export function cloneSource(ctx: RuleContext, leader: string): string {
  const donor = membersByName(ctx).find(
    (m) => m.name !== ctx.me && m.data.tags?.clonefrom === true && memberRunning(m),
  );
  return donor?.name ?? leader;
}

function whyNotBootstrap(ctx: RuleContext): string | null {
  if (isNoFailover(ctx.local.tags)) return 'I am tagged nofailover';
  if (!ctx.local.canBootstrap) return 'my config has no bootstrap section';
  return null;
}

export const bootstrapRule: Rule = (ctx) => {
  const dataDir = ctx.local.pg.dataDir;
  if (dataDir === 'invalid') {
    return noAction(`data directory is not empty but has no readable pg_control: consider reinitializing this node (${ctx.me})`, 'uninitialized');
  }
  if (dataDir !== 'empty') return null;
  // The data is gone: a lock we still hold must not keep other nodes from taking over.
  const release = ctx.ownsKey ? [{ kind: 'release-lock' as const }] : [];
  const said = ctx.ownsKey ? 'releasing the leader lock because my data directory is empty; ' : '';
  if (ctx.settings.pause) return plan(release, `${said}data directory is empty and the cluster is paused: not bootstrapping or cloning`, 'uninitialized');
  const leader = ctx.ownsKey ? null : ctx.leaderName;
  if (leader !== null) {
    const from = cloneSource(ctx, leader);
    const via = from === leader ? 'the leader' : 'a clonefrom member';
    return plan([...release, { kind: 'clone', from }], `cloning a new replica from ${from} (${via}) because my data directory is empty`, 'replica');
  }
  if (ctx.view.initialize !== null) {
    return plan(release, `${said}waiting for leader to bootstrap: the initialize key is taken but nobody holds the leader lock`, 'uninitialized');
  }
  const blocker = whyNotBootstrap(ctx);
  if (blocker) return plan(release, `${said}waiting for leader to bootstrap: I cannot bootstrap the cluster because ${blocker}`, 'uninitialized');
  return plan(
    [...release, { kind: 'acquire-initialize' }, { kind: 'bootstrap' }],
    `bootstrapping a new cluster: no leader and no initialize key, racing for the initialize key`,
    'primary',
  );
};
