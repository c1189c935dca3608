/**
 * Synchronous replication, the pure part (Patroni's process_sync_replication, ha-cycle.md §2.7).
 *
 * resolveSync() looks at what the primary sees this cycle and returns the ordered steps that move
 * the cluster one stage towards the wanted state, never breaking the invariant:
 *
 *   a member is named in /sync only while it is in synchronous_standby_names AND
 *   pg_stat_replication reports it 'sync' AND it has flushed everything written before the GUC
 *   last changed (so it holds every commit acknowledged under the previous setting).
 *
 * Hence removal shrinks /sync first and changes the GUC second; addition changes the GUC first and
 * names the member in /sync only on a later look, once PostgreSQL confirms it. A member named in
 * /sync (or the /sync leader) is the only one allowed to take over automatically, so every
 * acknowledged commit survives a failover.
 */
import type { Member, MemberTags, SyncState } from '../dcs/types.js';
import type { ReplicationRow } from '../postgres/types.js';

/** One row of the primary's pg_stat_replication, as the resolver needs it. */
export type SyncReplicationRow = Pick<ReplicationRow, 'applicationName' | 'state' | 'syncState' | 'flushLsn'>;

export interface SyncInput {
  /** The primary's member name (written as /sync's leader). */
  readonly me: string;
  readonly replication: readonly SyncReplicationRow[];
  readonly members: ReadonlyMap<string, Pick<Member, 'name' | 'data'>>;
  /** synchronous_node_count (>= 1). */
  readonly nodeCount: number;
  /** maximum_lag_on_syncnode in bytes; <= 0 disables the check. */
  readonly maxLagOnSyncnode: number;
  readonly strict: boolean;
  /** The /sync key now (null: absent). */
  readonly current: SyncState | null;
  /** synchronous_standby_names in force now (SHOW), as PostgreSQL reports it. */
  readonly guc: string;
  /**
   * The primary's flush LSN when the GUC last took its current value (or when this agent first saw
   * it). A standby confirmed 'sync' counts only once it has flushed this far.
   */
  readonly gucSinceLsn: number;
}

export type SyncStep =
  | { readonly kind: 'write-sync'; readonly value: SyncState }
  | { readonly kind: 'set-guc'; readonly value: string };

export interface SyncPlan {
  /** Execute in order; stop at the first failure (a lost CAS included). */
  readonly steps: readonly SyncStep[];
  /** The members chosen as synchronous standbys (may not be confirmed yet). */
  readonly chosen: readonly string[];
  readonly reason: string;
}

const lower = (s: string): string => s.toLowerCase();

function tagsOf(m: Pick<Member, 'data'> | undefined): MemberTags {
  return m?.data.tags ?? {};
}

function byName(members: SyncInput['members']): Map<string, Pick<Member, 'name' | 'data'>> {
  const out = new Map<string, Pick<Member, 'name' | 'data'>>();
  for (const m of members.values()) out.set(lower(m.name), m);
  return out;
}

/**
 * The members that should be synchronous standbys: streaming rows of running members without
 * nosync, best first (already sync, then most advanced; nofailover members last), skipping those
 * more than maximum_lag_on_syncnode behind the most advanced, at most synchronous_node_count.
 */
export function chooseSyncStandbys(input: SyncInput): string[] {
  const members = byName(input.members);
  const rows: { name: string; sync: boolean; lsn: number; nofailover: boolean }[] = [];
  for (const r of input.replication) {
    const m = members.get(lower(r.applicationName));
    if (!m || lower(m.name) === lower(input.me) || r.flushLsn === null || r.state !== 'streaming') continue;
    const tags = tagsOf(m);
    if (tags.nosync === true || m.data.state !== 'running') continue;
    rows.push({ name: m.name, sync: r.syncState === 'sync', lsn: r.flushLsn, nofailover: tags.nofailover === true });
  }
  rows.sort((a, b) => Number(a.nofailover) - Number(b.nofailover) || Number(b.sync) - Number(a.sync)
    || b.lsn - a.lsn || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const max = rows.reduce((acc, r) => Math.max(acc, r.lsn), 0);
  const fit = input.maxLagOnSyncnode > 0 ? rows.filter((r) => max - r.lsn <= input.maxLagOnSyncnode) : rows;
  return fit.slice(0, Math.max(1, input.nodeCount)).map((r) => r.name).sort();
}

/** A standby name as synchronous_standby_names needs it: double-quoted, inner quotes doubled. */
function quoteName(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * The GUC value for `names`: '' (none, non-strict), '*' (none, strict: every commit waits for
 * some standby that does not exist yet, so writes block rather than run unprotected),
 * `"a"` for one, `2 ("a","b")` for several (all of them must confirm each commit).
 */
export function renderSyncGuc(names: readonly string[], strict: boolean): string {
  if (names.length === 0) return strict ? '*' : '';
  if (names.length === 1) return quoteName(names[0]!);
  return `${names.length} (${names.map(quoteName).join(',')})`;
}

/**
 * The standby names a synchronous_standby_names value lists (lower-cased; '*' stays '*'). Accepts
 * the forms PostgreSQL does: `a, b`, `N (a, b)`, `FIRST N (...)`, `ANY N (...)`, quoted names.
 */
export function parseSyncGuc(value: string): string[] {
  let s = value.trim();
  const m = /^(?:(?:first|any)\s+)?\d+\s*\((.*)\)$/is.exec(s);
  if (m) s = m[1]!;
  const out: string[] = [];
  for (const part of s.match(/"(?:[^"]|"")*"|[^,]+/g) ?? []) {
    const t = part.trim();
    if (t === '' || t === ',') continue;
    out.push(t.startsWith('"') ? t.slice(1, -1).replace(/""/g, '"') : lower(t));
  }
  return out;
}

/** Members that PostgreSQL confirms as synchronous under the GUC in force, and caught up. */
export function confirmedSync(input: SyncInput): string[] {
  const inGuc = new Set(parseSyncGuc(input.guc).map(lower));
  const members = byName(input.members);
  const out: string[] = [];
  for (const r of input.replication) {
    const m = members.get(lower(r.applicationName));
    if (!m || !inGuc.has(lower(m.name)) || r.syncState !== 'sync' || r.flushLsn === null) continue;
    if (r.flushLsn >= input.gucSinceLsn) out.push(m.name);
  }
  return out.sort();
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  const x = [...a].map(lower).sort();
  const y = [...b].map(lower).sort();
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

function sameGuc(a: string, b: string): boolean {
  return sameNames(parseSyncGuc(a), parseSyncGuc(b)) && (a.trim() === '') === (b.trim() === '');
}

/** One cycle of synchronous mode on the primary. Pure: see the module comment for the invariant. */
export function resolveSync(input: SyncInput): SyncPlan {
  const chosen = chooseSyncStandbys(input);
  const confirmed = new Set(confirmedSync(input).map(lower));
  const listed = input.current?.sync_standby ?? [];
  const leaderOk = input.current?.leader != null && lower(input.current.leader) === lower(input.me);
  const guc = renderSyncGuc(chosen, input.strict);
  const waiting = chosen.filter((n) => !confirmed.has(lower(n)));
  const tail = waiting.length ? `; waiting for ${waiting.join(', ')} to confirm synchronous replication` : '';
  if (sameGuc(guc, input.guc)) {
    // The GUC already names the chosen standbys: /sync becomes exactly those PostgreSQL confirms.
    const next = chosen.filter((n) => confirmed.has(lower(n)));
    if (leaderOk && sameNames(next, listed)) return { steps: [], chosen, reason: `synchronous replication is as wanted${tail}` };
    return {
      steps: [{ kind: 'write-sync', value: { leader: input.me, sync_standby: next } }],
      chosen,
      reason: `naming ${next.join(', ') || 'no standby'} in /sync (confirmed synchronous)${tail}`,
    };
  }
  // The GUC must change: first shrink /sync to who stays both chosen and confirmed, then set the
  // GUC; newcomers are named in /sync on a later cycle, once PostgreSQL confirms them.
  const wanted = new Set(chosen.map(lower));
  const keep = listed.filter((n) => wanted.has(lower(n)) && confirmed.has(lower(n))).sort();
  const steps: SyncStep[] = [];
  const why: string[] = [];
  if (!leaderOk || keep.length !== listed.length) {
    steps.push({ kind: 'write-sync', value: { leader: input.me, sync_standby: keep } });
    const dropped = listed.filter((n) => !keep.includes(n));
    why.push(dropped.length ? `removing ${dropped.join(', ')} from /sync first` : 'claiming /sync as its leader');
  }
  steps.push({ kind: 'set-guc', value: guc });
  why.push(`setting synchronous_standby_names to '${guc}'`);
  return { steps, chosen, reason: why.join('; ') };
}
