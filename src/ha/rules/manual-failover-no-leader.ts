/**
 * The failover key while nobody holds the lock (Patroni's manual_failover_process_no_leader):
 * the named candidate takes over; others stand back while the candidate is healthy; a former
 * leader named in the key only takes over when nobody else can.
 */
import type { FailoverRequest } from '../../dcs/types.js';
import { failoverTarget, isNoFailover, peerTags } from './facts.js';
import type { RuleContext } from './context.js';

export type Verdict =
  | { readonly kind: 'yes'; readonly why: string }
  /** notAllowed: a policy forbids me (tag, pause, sync) rather than a better peer. */
  | { readonly kind: 'no'; readonly why: string; readonly notAllowed?: boolean }
  /** Fall through to the ordinary health comparison, ignoring `exclude` and lag. */
  | { readonly kind: 'compare'; readonly exclude: string | null };

export function manualFailoverNoLeader(ctx: RuleContext, f: FailoverRequest): Verdict {
  if (f.member === ctx.me) return { kind: 'yes', why: 'I am the candidate named in the failover key' };
  if (f.member) {
    if (ctx.settings.pause) return { kind: 'no', why: `the cluster is paused and the failover key names ${f.member}`, notAllowed: true };
    const peer = ctx.local.peers.get(f.member);
    if (peer && !isNoFailover(peerTags(ctx, f.member, peer))) {
      return { kind: 'no', why: `the failover candidate ${f.member} is healthy and will take over` };
    }
    // The candidate is unreachable or unfit: Patroni carries on as if no candidate was named.
  } else if (ctx.settings.pause) {
    return { kind: 'no', why: 'the cluster is paused and the failover key names no candidate', notAllowed: true };
  }
  if (f.leader === ctx.me) {
    const target = failoverTarget(ctx);
    return target.name === null
      ? { kind: 'yes', why: `I am the former leader named in the failover key and no other member can take over (${target.why})` }
      : { kind: 'no', why: `I am the former leader named in the failover key and ${target.why}` };
  }
  return { kind: 'compare', exclude: f.leader ?? null };
}
