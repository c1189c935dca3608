/**
 * Small pure queries over the cycle's inputs, shared by several rules: tags, the /sync gate, the
 * failover key, candidate eligibility, and byte formatting for reasons.
 */
import { clusterLastLsn, type FailoverRequest, type Member, type MemberTags } from '../../dcs/types.js';
import type { Action, PeerStatus } from '../types.js';
import { membersByName, type RuleContext } from './context.js';

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;

/** "5 MiB", "1.5 GiB", "300 bytes": how lag and thresholds appear in reasons. */
export function formatBytes(n: number): string {
  const sign = n < 0 ? '-' : '';
  const a = Math.abs(n);
  const fmt = (v: number, unit: string): string => `${sign}${Number.isInteger(v) ? v : v.toFixed(1)} ${unit}`;
  if (a >= GIB) return fmt(a / GIB, 'GiB');
  if (a >= MIB) return fmt(a / MIB, 'MiB');
  if (a >= KIB) return fmt(a / KIB, 'KiB');
  return `${sign}${a} bytes`;
}

/** Patroni: a member is never promoted automatically when tagged nofailover or failover_priority <= 0. */
export function isNoFailover(tags: MemberTags | undefined): boolean {
  if (!tags) return false;
  if (tags.nofailover === true) return true;
  return typeof tags.failover_priority === 'number' && tags.failover_priority <= 0;
}

/** failover_priority breaks ties between equally advanced candidates (default 1). */
export function failoverPriority(tags: MemberTags | undefined): number {
  return typeof tags?.failover_priority === 'number' ? tags.failover_priority : 1;
}

export function memberRunning(m: Member | undefined): boolean {
  return m !== undefined && m.data.state === 'running';
}

/** The failover/switchover key when it asks for something; `{}` (cleared) counts as absent. */
export function activeFailover(ctx: RuleContext): FailoverRequest | null {
  const f = ctx.view.failover?.value;
  if (!f) return null;
  return f.leader || f.member || f.scheduled_at ? f : null;
}

/**
 * Synchronous mode gate: the names (lower-cased) allowed to take over, or null when the gate is
 * not active (sync mode off, or no /sync leader recorded yet). Patroni only lets the former leader
 * or a member listed in /sync become primary, so a commit acknowledged by sync replication
 * survives. A /sync naming a leader but no standby lets only that leader back: its commits may
 * have been acknowledged with no standby confirming them (non-strict mode), or a new standby was
 * not yet confirmed, so nobody else is known to hold them.
 */
export function syncAllowed(ctx: RuleContext): ReadonlySet<string> | null {
  const sync = ctx.view.sync?.value;
  if (!ctx.settings.synchronousMode || !sync || !sync.leader) return null;
  const names = sync.sync_standby.map((n) => n.toLowerCase());
  names.push(sync.leader.toLowerCase());
  return new Set(names);
}

/** The actions that promote this node: prepare-sync first when synchronous mode is on. */
export function promoteActions(ctx: RuleContext): Action[] {
  const out: Action[] = [];
  if (ctx.settings.synchronousMode) out.push({ kind: 'prepare-sync', strict: ctx.settings.synchronousModeStrict });
  out.push({ kind: 'promote' });
  return out;
}

export function inSync(allowed: ReadonlySet<string> | null, name: string): boolean {
  return allowed === null || allowed.has(name.toLowerCase());
}

/** A peer's tags: its /patroni answer when we have one, else its member record. */
export function peerTags(ctx: RuleContext, name: string, peer?: PeerStatus | null): MemberTags | undefined {
  return peer?.tags ?? ctx.view.members.get(name)?.data.tags;
}

/**
 * Why member `name` cannot take over right now, or null when it can. Uses its /patroni answer
 * when the executor fetched one (null there = unreachable), else its member record.
 * `refLsn`: the WAL position it is measured against for maximum_lag_on_failover.
 */
export function candidateBlocker(ctx: RuleContext, name: string, refLsn: number): string | null {
  const member = ctx.view.members.get(name);
  if (!member) return `${name} is not a member of the cluster`;
  const peer = ctx.local.peers.get(name);
  if (peer === null) return `${name} is unreachable`;
  if (isNoFailover(peerTags(ctx, name, peer))) return `${name} is tagged nofailover`;
  if (!inSync(syncAllowed(ctx), name)) return `${name} is not a synchronous standby in /sync`;
  const running = peer ? peer.state === 'running' : memberRunning(member);
  if (!running) return `${name} is not running (its state is '${peer?.state ?? member.data.state}')`;
  const wal = peer ? peer.walPosition : (member.data.xlog_location ?? 0);
  const lag = refLsn - wal;
  if (lag > ctx.settings.maximumLagOnFailover) {
    return `${name} lags ${formatBytes(lag)}, more than maximum_lag_on_failover ${formatBytes(ctx.settings.maximumLagOnFailover)}`;
  }
  return null;
}

/**
 * Patroni's is_failover_possible: some other member could take over. When the failover key names
 * a candidate, only that candidate counts. Returns the chosen candidate's name or why none fits.
 */
export function failoverTarget(ctx: RuleContext): { readonly name: string | null; readonly why: string } {
  const named = activeFailover(ctx)?.member;
  const ref = ctx.local.pg.walPosition ?? clusterLastLsn(ctx.view);
  const names = named && named !== ctx.me ? [named] : membersByName(ctx).map((m) => m.name).filter((n) => n !== ctx.me);
  const blockers: string[] = [];
  for (const name of names) {
    const blocker = candidateBlocker(ctx, name, ref);
    if (blocker === null) return { name, why: `${name} can take over` };
    blockers.push(blocker);
  }
  return { name: null, why: blockers.length ? blockers.join('; ') : 'there is no other member' };
}
