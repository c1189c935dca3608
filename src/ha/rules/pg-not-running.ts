/**
 * Local PostgreSQL is not running (Patroni's recover()). The lock holder restarts it as primary
 * after a crash, bounded by primary_start_timeout when another member could take over; everyone
 * else starts as a replica of the leader (after rewind/reinit checks), or read-only with no
 * upstream while there is no leader. In pause nothing is started.
 */
import { failoverTarget } from './facts.js';
import { divergenceDecision } from './divergence.js';
import { upstreamFor } from './follower-side.js';
import { plan, type Rule, type RuleContext } from './context.js';
import type { Decision } from '../types.js';

function recoverAsLeader(ctx: RuleContext): Decision {
  const timeoutS = ctx.settings.primaryStartTimeoutSeconds;
  const { crashedAt } = ctx.local;
  const elapsedS = crashedAt === null ? 0 : (ctx.now.mono - crashedAt) / 1000;
  const expired = timeoutS === 0 || (crashedAt !== null && elapsedS > timeoutS);
  if (expired) {
    const target = failoverTarget(ctx);
    const why = timeoutS === 0 ? 'primary_start_timeout is 0' : `PostgreSQL has been down ${elapsedS.toFixed(1)} s, more than primary_start_timeout ${timeoutS} s`;
    if (target.name !== null) {
      return plan([{ kind: 'renew-lock' }, { kind: 'demote', mode: 'immediate' }], `releasing the leader lock: ${why} and ${target.why}`, 'demoted');
    }
    if (crashedAt !== null) {
      return plan([{ kind: 'renew-lock' }, { kind: 'start', role: 'primary', follow: null }], `starting primary after failure: ${why} but no failover is possible (${target.why})`, 'primary');
    }
  }
  if (crashedAt !== null && !ctx.local.pg.standbySignal) {
    return plan([{ kind: 'renew-lock' }, { kind: 'start', role: 'primary', follow: null }], `starting primary after failure (down ${elapsedS.toFixed(1)} s of primary_start_timeout ${timeoutS} s)`, 'primary');
  }
  // Not a crashed primary (e.g. agent restart): start read-only, promote next cycle once the lock is confirmed.
  return plan([{ kind: 'renew-lock' }, { kind: 'start', role: 'readonly', follow: null }], 'starting as readonly because I hold the leader lock; promoting once it is running', 'replica');
}

function recoverAsReplica(ctx: RuleContext, leader: string | null): Decision {
  if (leader === null) {
    return plan([{ kind: 'start', role: 'readonly', follow: null }], 'starting as a secondary (read-only, no upstream) because the cluster has no leader', 'replica');
  }
  const diverged = divergenceDecision(ctx, leader);
  if (diverged) return diverged;
  const upstream = upstreamFor(ctx, leader);
  return plan([{ kind: 'start', role: 'replica', follow: upstream }], upstream === leader
    ? `starting as a secondary following the leader ${leader}`
    : `starting as a secondary following ${upstream} per my replicatefrom tag (the leader is ${leader})`, 'replica');
}

export const pgNotRunningRule: Rule = (ctx) => {
  if (ctx.local.pg.running) return null;
  if (ctx.settings.pause) {
    // Patroni drops the key of a stopped leader in pause so a manual failover can proceed.
    const release = ctx.ownsKey ? [{ kind: 'release-lock' as const }] : [];
    return plan(release, 'PostgreSQL is not running and the cluster is paused: not starting it');
  }
  return ctx.ownsKey ? recoverAsLeader(ctx) : recoverAsReplica(ctx, ctx.leaderName);
};
