/**
 * Named scenario builders for decide() tests: cluster views (withLeader, unlocked, uninitialized),
 * local facts (primary, replica, stopped, emptyNode), peers' /patroni answers (peers, peer), and a
 * table runner that checks action kinds and that the reason names the deciding fact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClusterView, FailoverRequest, HistoryLine, Member, MemberTags } from '../../src/dcs/types.js';
import { decide } from '../../src/ha/decide.js';
import type { ActionKind, Decision, FailsafeRoundResult, FailsafeSender, HaSettings, LocalFacts, LocalPostgres, MonoMs, PeerStatus, RunningTask } from '../../src/ha/types.js';

export const MIB = 1024 * 1024;
export const SYSID = '7000000000000000001';
export const T0 = { mono: 1_000_000, wall: Date.parse('2024-05-01T12:00:00.000Z') };

export function settings(over: Partial<HaSettings> = {}): HaSettings {
  return {
    ttlSeconds: 30, loopWaitSeconds: 10, retryTimeoutSeconds: 10, maximumLagOnFailover: MIB,
    primaryStartTimeoutSeconds: 300, pause: false, useRewind: false, removeDataDirectoryOnRewindFailure: false,
    removeDataDirectoryOnDivergedTimelines: false, synchronousMode: false, synchronousModeStrict: false,
    checkTimeline: false, failsafeMode: false, ...over,
  };
}

export interface MemberOpts { role?: string; state?: string; wal?: number; tags?: MemberTags; timeline?: number }

export function member(name: string, o: MemberOpts = {}): Member {
  const data = {
    conn_url: `postgres://${name}:5432/postgres`, api_url: `http://${name}:8008/patroni`,
    state: o.state ?? 'running', role: o.role ?? 'replica', version: '3.3.1',
    xlog_location: o.wal ?? 0, timeline: o.timeline ?? 1, ...(o.tags ? { tags: o.tags } : {}),
  };
  return { name, version: '1', session: null, data };
}

export interface ViewOpts {
  members?: Member[]; initialize?: string | null; failover?: FailoverRequest | null;
  sync?: { leader: string | null; standbys: string[] } | null; history?: HistoryLine[] | null;
  optime?: number; hasConfig?: boolean;
  /** The /failsafe key (member name -> api_url). */
  failsafe?: Record<string, string> | null;
}

function view(leader: string | null, o: ViewOpts, defaultHistory: HistoryLine[] | null = []): ClusterView {
  const history = o.history === undefined ? defaultHistory : o.history;
  const members = o.members ?? [member('a', { role: 'primary' }), member('b'), member('c')];
  return {
    initialize: o.initialize === null ? null : { value: o.initialize ?? SYSID, version: '1' },
    config: o.hasConfig === false ? null : { value: { ttl: 30 }, version: '1' },
    leader: leader === null ? null : { member: leader, version: '5', session: 'lease-1' },
    members: new Map(members.map((m) => [m.name, m])),
    failover: o.failover ? { value: o.failover, version: '3' } : null,
    sync: o.sync ? { value: { leader: o.sync.leader, sync_standby: o.sync.standbys }, version: '4' } : null,
    history: history === null ? null : { value: history, version: '2' },
    failsafe: o.failsafe ?? null,
    status: o.optime === undefined ? null : { optime: o.optime },
    revision: '10',
  };
}

/** A cluster whose leader key names `leader`. */
export function withLeader(leader: string, o: ViewOpts = {}): ClusterView {
  return view(leader, o);
}
/** An initialized cluster whose leader key is free. */
export function unlocked(o: ViewOpts = {}): ClusterView {
  return view(null, o);
}
/** A brand-new cluster: no keys at all. */
export function uninitialized(o: ViewOpts = {}): ClusterView {
  return view(null, { members: [], initialize: null, hasConfig: false, ...o }, null);
}

export interface LocalOpts {
  wal?: number | null; timeline?: number | null; following?: string | null; tags?: MemberTags; sysid?: string | null;
  holdsLock?: boolean; leaseDeadline?: MonoMs | null; dcsError?: string | null; task?: RunningTask | null;
  crashedAt?: MonoMs | null; peers?: ReadonlyMap<string, PeerStatus | null>; canBootstrap?: boolean;
  rewindFailed?: boolean; needsRewind?: boolean | null; standbySignal?: boolean; controlState?: string | null;
  failsafe?: FailsafeRoundResult | null; failsafeSender?: FailsafeSender | null;
}

function local(name: string, pg: Omit<LocalPostgres, 'sysid' | 'timeline' | 'walPosition' | 'following' | 'needsRewind' | 'standbySignal' | 'controlState'>, o: LocalOpts): LocalFacts {
  return {
    name, tags: o.tags ?? {},
    pg: {
      ...pg, sysid: o.sysid === undefined ? SYSID : o.sysid, timeline: o.timeline === undefined ? 1 : o.timeline,
      walPosition: o.wal === undefined ? 1000 : o.wal, following: o.following ?? null,
      needsRewind: o.needsRewind ?? null, standbySignal: o.standbySignal ?? pg.inRecovery, controlState: o.controlState ?? null,
    },
    holdsLock: o.holdsLock ?? false, leaseDeadline: o.leaseDeadline ?? null, dcsError: o.dcsError ?? null,
    task: o.task ?? null, crashedAt: o.crashedAt ?? null, peers: o.peers ?? new Map(),
    canBootstrap: o.canBootstrap ?? true, rewindFailed: o.rewindFailed ?? false,
    failsafe: o.failsafe ?? null, failsafeSender: o.failsafeSender ?? null,
  };
}

/** A running primary; holdsLock defaults to true with a lease deadline in the future. */
export function primary(name: string, o: LocalOpts = {}): LocalFacts {
  return local(name, { dataDir: 'initialized', running: true, inRecovery: false }, { holdsLock: true, leaseDeadline: T0.mono + 20_000, ...o });
}
/** A running replica (following defaults to 'a'). */
export function replica(name: string, o: LocalOpts = {}): LocalFacts {
  return local(name, { dataDir: 'initialized', running: true, inRecovery: true }, { following: 'a', ...o });
}
/** Data directory present, PostgreSQL not running. */
export function stopped(name: string, o: LocalOpts = {}): LocalFacts {
  return local(name, { dataDir: 'initialized', running: false, inRecovery: false }, o);
}
/** No data directory yet. */
export function emptyNode(name: string, o: LocalOpts = {}): LocalFacts {
  return local(name, { dataDir: 'empty', running: false, inRecovery: false }, { sysid: null, wal: null, timeline: null, ...o });
}

export interface PeerOpts { wal?: number; primary?: boolean; tags?: MemberTags; state?: string; timeline?: number }
/** A peer's /patroni answer. */
export function peer(name: string, o: PeerOpts = {}): PeerStatus {
  return {
    name, role: o.primary ? 'primary' : 'replica', state: o.state ?? 'running', walPosition: o.wal ?? 0,
    timeline: o.timeline ?? 1, tags: o.tags ?? {}, inRecovery: !o.primary,
  };
}
/** Peers' answers; a bare name means unreachable (null). */
export function peers(...list: Array<PeerStatus | string>): ReadonlyMap<string, PeerStatus | null> {
  return new Map(list.map((p) => (typeof p === 'string' ? [p, null] : [p.name, p])));
}

export const kinds = (d: Decision): ActionKind[] => d.actions.map((a) => a.kind);

export interface Row {
  name: string;
  view: ClusterView;
  local: LocalFacts;
  settings?: Partial<HaSettings>;
  now?: { mono: number; wall: number };
  kinds: ActionKind[];
  /** Substrings (or patterns) the reason must contain: the deciding fact and its numbers. */
  mentions: Array<string | RegExp>;
  check?: (d: Decision) => void;
}

export function run(row: Row): Decision {
  return decide(row.view, row.local, settings(row.settings), row.now ?? T0);
}

/** One node:test per row, named after the situation. */
export function table(rows: Row[]): void {
  for (const row of rows) {
    test(row.name, () => {
      const d = run(row);
      // SHOW_REASONS=1 prints every row's reason: a quick read of what operators will see.
      if (process.env['SHOW_REASONS']) console.log(`${row.name}\n    -> [${kinds(d).join(', ')}] ${d.reason}`);
      assert.deepEqual(kinds(d), row.kinds, `reason was: ${d.reason}`);
      for (const m of row.mentions) {
        if (typeof m === 'string') assert.ok(d.reason.includes(m), `reason "${d.reason}" should mention "${m}"`);
        else assert.match(d.reason, m);
      }
      row.check?.(d);
    });
  }
}
