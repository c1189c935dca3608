/**
 * PostgreSQL not running (Patroni's recover(), primary_start_timeout), divergence (rewind,
 * reinit), and async jobs in progress (ha-cycle.md §2.3 steps 4, 10; §2.5).
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { member, MIB, primary, replica, stopped, T0, table, unlocked, withLeader } from './builders.js';

const crashed = (secondsAgo: number) => ({ crashedAt: T0.mono - secondsAgo * 1000, holdsLock: true, standbySignal: false });
const lonely = { members: [member('a', { role: 'primary' }), member('b', { state: 'stopped' })] };

describe('PostgreSQL down on the leader', () => {
  table([
    { name: 'crashed primary within primary_start_timeout restarts as primary', view: withLeader('a'), local: stopped('a', crashed(5)),
      kinds: ['renew-lock', 'start'], mentions: ['starting primary after failure', 'primary_start_timeout 300 s'],
      check: (d) => assert.deepEqual(d.actions[1], { kind: 'start', role: 'primary', follow: null }) },
    { name: 'primary_start_timeout 0 and a healthy replica: release the lock', view: withLeader('a'), local: stopped('a', crashed(1)),
      settings: { primaryStartTimeoutSeconds: 0 }, kinds: ['renew-lock', 'demote'], mentions: ['primary_start_timeout is 0', 'b can take over'],
      check: (d) => assert.deepEqual(d.actions[1], { kind: 'demote', mode: 'immediate' }) },
    { name: 'primary_start_timeout 0 but nobody can take over: restart as primary', view: withLeader('a', lonely),
      local: stopped('a', crashed(1)), settings: { primaryStartTimeoutSeconds: 0 }, kinds: ['renew-lock', 'start'],
      mentions: ['no failover is possible', 'b is not running'] },
    { name: 'crash restart past primary_start_timeout: fail over', view: withLeader('a'), local: stopped('a', crashed(301)),
      kinds: ['renew-lock', 'demote'], mentions: ['down 301.0 s', 'primary_start_timeout 300 s'] },
    { name: 'past primary_start_timeout but every replica lags: keep restarting',
      view: withLeader('a', { optime: 10 * MIB, members: [member('a'), member('b', { wal: 0 }), member('c', { wal: 0 })] }),
      local: stopped('a', { ...crashed(400), wal: null }), kinds: ['renew-lock', 'start'], mentions: ['no failover is possible', 'lags 10 MiB'] },
    { name: 'lock holder without a crash (agent restart) starts read-only first', view: withLeader('a'),
      local: stopped('a', { holdsLock: false, standbySignal: true }), kinds: ['renew-lock', 'start'], mentions: ['readonly'],
      check: (d) => assert.deepEqual(d.actions[1], { kind: 'start', role: 'readonly', follow: null }) },
  ]);
});

describe('PostgreSQL down on a replica', () => {
  table([
    { name: 'stopped replica starts following the leader', view: withLeader('a'), local: stopped('b'), kinds: ['start'],
      mentions: ['following the leader a'], check: (d) => assert.deepEqual(d.actions[0], { kind: 'start', role: 'replica', follow: 'a' }) },
    { name: 'stopped replica with replicatefrom starts from that member', view: withLeader('a'),
      local: stopped('c', { tags: { replicatefrom: 'b' } }), kinds: ['start'], mentions: ['following b per my replicatefrom tag (the leader is a)'] },
    { name: 'no leader: start read-only with no upstream', view: unlocked(), local: stopped('b'), kinds: ['start'],
      mentions: ['no leader'], check: (d) => assert.deepEqual(d.actions[0], { kind: 'start', role: 'readonly', follow: null }) },
    { name: 'paused: a stopped node is not started', view: withLeader('a'), local: stopped('b'), settings: { pause: true },
      kinds: [], mentions: ['paused'] },
    { name: 'paused: a stopped leader drops its lock', view: withLeader('a'), local: stopped('a', crashed(3)),
      settings: { pause: true }, kinds: ['release-lock'], mentions: ['paused'] },
  ]);
});

describe('diverged timelines: rewind or reinit', () => {
  table([
    { name: 'diverged former primary rewinds when use_pg_rewind is on', view: withLeader('b'), local: stopped('a', { needsRewind: true }),
      settings: { useRewind: true }, kinds: ['rewind'], mentions: ['rewinding from b'],
      check: (d) => assert.deepEqual(d.actions[0], { kind: 'rewind', from: 'b' }) },
    { name: 'diverged, no rewind, remove_data_directory_on_diverged_timelines: reinit', view: withLeader('b'),
      local: stopped('a', { needsRewind: true }), settings: { removeDataDirectoryOnDivergedTimelines: true }, kinds: ['reinit'],
      mentions: ['diverged timelines'] },
    { name: 'diverged and neither option set: stay as it is', view: withLeader('b'), local: stopped('a', { needsRewind: true }),
      kinds: [], mentions: ['neither use_pg_rewind nor remove_data_directory_on_diverged_timelines'] },
    { name: 'rewind failed and remove_data_directory_on_rewind_failure: reinit', view: withLeader('b'),
      local: stopped('a', { needsRewind: true, rewindFailed: true }), settings: { useRewind: true, removeDataDirectoryOnRewindFailure: true },
      kinds: ['reinit'], mentions: ['pg_rewind failed', 'remove_data_directory_on_rewind_failure'] },
    { name: 'rewind failed without the option: stay stopped', view: withLeader('b'),
      local: stopped('a', { needsRewind: true, rewindFailed: true }), settings: { useRewind: true }, kinds: [],
      mentions: ['not following leader b: pg_rewind against it failed'] },
    { name: 'running diverged replica is rewound too', view: withLeader('b'), local: replica('a', { needsRewind: true, following: 'b' }),
      settings: { useRewind: true }, kinds: ['rewind'], mentions: ['diverged'] },
    { name: 'paused: a diverged node is left alone', view: withLeader('b'), local: replica('a', { needsRewind: true }),
      settings: { useRewind: true, pause: true }, kinds: [], mentions: ['paused'] },
  ]);
});

describe('async job in progress', () => {
  table([
    { name: 'leader keeps its lock during a restart', view: withLeader('a'),
      local: primary('a', { task: { kind: 'restart', startedAt: T0.mono - 1000 } }), kinds: ['renew-lock'],
      mentions: ['updated leader lock during restart'] },
    { name: 'crash restart running past primary_start_timeout: fail over', view: withLeader('a'),
      local: stopped('a', { ...crashed(310), task: { kind: 'start', startedAt: T0.mono - 300_000 } }), kinds: ['demote'],
      mentions: ['primary_start_timeout 300 s', 'b can take over'] },
    { name: 'primary that lost the lock during a job demotes', view: withLeader('b'),
      local: primary('a', { holdsLock: false, task: { kind: 'restart', startedAt: T0.mono } }), kinds: ['demote'],
      mentions: ['lost the leader lock during restart', 'b holds'] },
    { name: 'replica waits for its clone to finish', view: withLeader('a'),
      local: stopped('d', { task: { kind: 'clone', startedAt: T0.mono - 9000 } }), kinds: [], mentions: ['clone in progress'] },
  ]);
});
