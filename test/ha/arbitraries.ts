/**
 * fast-check generators of whole cycles: random (but well-formed) cluster views, local facts,
 * settings and times, over a three-member cluster so that names collide often.
 */
import fc from 'fast-check';
import type { ClusterView, HistoryLine, MemberTags } from '../../src/dcs/types.js';
import type { HaSettings, LocalFacts, PeerStatus, RunningTask } from '../../src/ha/types.js';
import { member, MIB, settings, SYSID, T0 } from './builders.js';

const NAMES = ['a', 'b', 'c'] as const;

/** null most of the time: the failure branches (DCS error, job running) should not drown the rest. */
function rarely<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | null> {
  return fc.oneof({ arbitrary: fc.constant(null), weight: 4 }, { arbitrary: arb, weight: 1 });
}
const name = fc.constantFrom(...NAMES);
const wal = fc.integer({ min: 0, max: 4 * MIB });
const tags: fc.Arbitrary<MemberTags> = fc.record(
  { nofailover: fc.boolean(), failover_priority: fc.integer({ min: 0, max: 3 }), clonefrom: fc.boolean(), replicatefrom: name },
  { requiredKeys: [] },
);

const memberArb = fc.record({ n: name, role: fc.constantFrom('replica', 'primary'), state: fc.constantFrom('running', 'stopped', 'starting'), wal, tags })
  .map((m) => member(m.n, { role: m.role, state: m.state, wal: m.wal, tags: m.tags }));

const isoAround = fc.integer({ min: -60, max: 60 }).map((s) => new Date(T0.wall + s * 1000).toISOString());
const failover = fc.record({ leader: name, member: fc.oneof(name, fc.constant('zz')), scheduled_at: fc.oneof(isoAround, fc.constant('bad')) }, { requiredKeys: [] });
const history: fc.Arbitrary<HistoryLine[]> = fc.array(fc.tuple(fc.integer({ min: 1, max: 4 }), wal, fc.constant('r')), { maxLength: 3 })
  .map((lines) => lines.map(([tl, lsn, r]) => [tl, lsn, r] as HistoryLine));

export const viewArb: fc.Arbitrary<ClusterView> = fc.record({
  leader: fc.option(name), members: fc.uniqueArray(memberArb, { selector: (m) => m.name, maxLength: 3 }),
  initialize: fc.option(fc.constantFrom(SYSID, SYSID, SYSID, '', '7999999999999999999')), failover: rarely(failover),
  sync: fc.option(fc.record({ leader: fc.option(name), standbys: fc.subarray([...NAMES]) })),
  history: fc.option(history), optime: fc.option(wal), hasConfig: fc.boolean(),
}).map((v) => ({
  initialize: v.initialize === null ? null : { value: v.initialize, version: '1' },
  config: v.hasConfig ? { value: {}, version: '1' } : null,
  leader: v.leader === null ? null : { member: v.leader, version: '5', session: null },
  members: new Map(v.members.map((m) => [m.name, m])),
  failover: v.failover === null ? null : { value: v.failover, version: '2' },
  sync: v.sync === null ? null : { value: { leader: v.sync.leader, sync_standby: v.sync.standbys }, version: '3' },
  history: v.history === null ? null : { value: v.history, version: '4' },
  failsafe: null, status: v.optime === null ? null : { optime: v.optime }, revision: '9',
}));

const peerArb: fc.Arbitrary<PeerStatus | null> = fc.option(fc.record({
  name, role: fc.constant('replica'), state: fc.constantFrom('running', 'stopped'), walPosition: wal,
  timeline: fc.option(fc.integer({ min: 1, max: 4 })), tags, inRecovery: fc.boolean(),
}));

const taskArb: fc.Arbitrary<RunningTask> = fc.record({
  kind: fc.constantFrom('bootstrap', 'clone', 'rewind', 'reinit', 'restart', 'start', 'stop', 'promote'),
  startedAt: fc.integer({ min: T0.mono - 600_000, max: T0.mono }),
});

/** Well-formed local facts: PostgreSQL runs only on an initialized data directory. */
export const localArb: fc.Arbitrary<LocalFacts> = fc.record({
  me: name, tags, dataDir: fc.constantFrom('empty', 'invalid', ...Array<'initialized'>(6).fill('initialized')),
  sysid: fc.constantFrom(SYSID, SYSID, SYSID, '7999999999999999999'), running: fc.boolean(), inRecovery: fc.boolean(),
  timeline: fc.option(fc.integer({ min: 1, max: 4 })), wal: fc.option(wal), following: fc.option(name),
  needsRewind: fc.option(fc.boolean()), standbySignal: fc.boolean(), holdsLock: fc.boolean(),
  leaseDeadline: fc.option(fc.integer({ min: T0.mono - 10_000, max: T0.mono + 60_000 })),
  dcsError: rarely(fc.constant('etcd unavailable')), task: rarely(taskArb),
  crashedAt: rarely(fc.integer({ min: T0.mono - 600_000, max: T0.mono })),
  peers: fc.array(peerArb, { maxLength: 3 }), canBootstrap: fc.boolean(), rewindFailed: fc.boolean(),
  failsafe: rarely(fc.record({ ok: fc.boolean(), detail: fc.constant('all 2 members confirmed failsafe') })),
  failsafeSender: rarely(fc.record({ name, receivedAt: fc.integer({ min: T0.mono - 60_000, max: T0.mono }) })),
}).map((l) => {
  const initialized = l.dataDir === 'initialized';
  const running = initialized && l.running;
  const peerMap = new Map<string, PeerStatus | null>();
  l.peers.forEach((p, i) => peerMap.set(p?.name ?? NAMES[i] ?? 'a', p));
  return {
    name: l.me, tags: l.tags,
    pg: {
      dataDir: l.dataDir, sysid: l.dataDir === 'empty' ? null : l.sysid, running, inRecovery: running && l.inRecovery,
      timeline: l.timeline, walPosition: l.wal, controlState: running ? null : 'shut down', standbySignal: l.standbySignal,
      following: l.following, needsRewind: l.needsRewind,
    },
    holdsLock: l.holdsLock, leaseDeadline: l.leaseDeadline, dcsError: l.dcsError, task: l.task, crashedAt: l.crashedAt,
    peers: peerMap, canBootstrap: l.canBootstrap, rewindFailed: l.rewindFailed,
    failsafe: l.failsafe, failsafeSender: l.failsafeSender,
  };
});

export const settingsArb: fc.Arbitrary<HaSettings> = fc.record({
  pause: fc.integer({ min: 0, max: 3 }).map((n) => n === 0), useRewind: fc.boolean(), removeDataDirectoryOnRewindFailure: fc.boolean(),
  removeDataDirectoryOnDivergedTimelines: fc.boolean(), synchronousMode: fc.boolean(), checkTimeline: fc.boolean(),
  primaryStartTimeoutSeconds: fc.constantFrom(0, 300), failsafeMode: fc.boolean(),
}).map((s) => settings(s));

export const nowArb = fc.integer({ min: -20_000, max: 20_000 }).map((d) => ({ mono: T0.mono + d, wall: T0.wall + d }));
