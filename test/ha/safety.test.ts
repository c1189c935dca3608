/**
 * Safety and pause: the lease deadline (our "never two writable primaries" rule), losing the
 * DCS (ha-cycle.md §2.3 step 15), and pause mode (§2.8).
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { peer, peers, primary, replica, T0, table, unlocked, withLeader } from './builders.js';

const expired = { leaseDeadline: T0.mono - 1500 };
const nolock = { kind: 'demote', mode: 'immediate-nolock' };

describe('lease deadline', () => {
  table([
    { name: 'past the lease deadline a primary demotes even though the view says it leads', view: withLeader('a'),
      local: primary('a', expired), kinds: ['demote'], mentions: ['lease expired 1500 ms ago'],
      check: (d) => assert.deepEqual(d.actions[0], nolock) },
    { name: 'past the lease deadline with the DCS down: demote without touching the key', view: withLeader('a'),
      local: primary('a', { ...expired, dcsError: 'etcd: deadline exceeded' }), kinds: ['demote'], mentions: ['lease expired'],
      check: (d) => assert.deepEqual(d.actions[0], nolock) },
    { name: 'the lease deadline applies in pause too', view: withLeader('a'), local: primary('a', expired), settings: { pause: true },
      kinds: ['demote'], mentions: ['lease expired'] },
    { name: 'exactly at the deadline counts as expired', view: withLeader('a'), local: primary('a', { leaseDeadline: T0.mono }),
      kinds: ['demote'], mentions: ['lease expired 0 ms ago'] },
    { name: 'one millisecond before the deadline the leader just renews', view: withLeader('a'),
      local: primary('a', { leaseDeadline: T0.mono + 1 }), kinds: ['renew-lock'], mentions: ['leader with the lock'] },
    { name: 'an expired lease on a replica needs no demotion: the lock holder renews', view: withLeader('a'),
      local: replica('a', { ...expired, holdsLock: true }), kinds: ['renew-lock', 'promote'], mentions: ['hold the leader lock'] },
  ]);
});

describe('DCS not accessible', () => {
  table([
    { name: 'a running primary demotes offline', view: withLeader('a'), local: primary('a', { dcsError: 'connect ECONNREFUSED 127.0.0.1:2379' }),
      kinds: ['demote'], mentions: ['DCS is not accessible', 'ECONNREFUSED'],
      check: (d) => assert.deepEqual(d.actions[0], { kind: 'demote', mode: 'offline' }) },
    { name: 'a replica keeps running', view: withLeader('a'), local: replica('b', { dcsError: 'timeout' }), kinds: [],
      mentions: ['DCS is not accessible', 'keep running'] },
    { name: 'a replica in an unlocked (stale) view does not race', view: unlocked(),
      local: replica('b', { dcsError: 'timeout', peers: peers(peer('c')) }), kinds: [], mentions: ['DCS is not accessible'] },
    { name: 'paused: the primary keeps running until its lease deadline', view: withLeader('a'),
      local: primary('a', { dcsError: 'timeout' }), settings: { pause: true }, kinds: [], mentions: ['DCS is not accessible', 'paused'] },
    { name: 'a long multi-line error is cut to one readable line', view: withLeader('a'),
      local: replica('b', { dcsError: `${'x'.repeat(300)}\n    at stack` }), kinds: [], mentions: ['...'],
      check: (d) => { assert.ok(!d.reason.includes('\n')); assert.ok(d.reason.length < 300); } },
  ]);
});

describe('pause', () => {
  table([
    { name: 'the leader keeps its lock', view: withLeader('a'), local: primary('a'), settings: { pause: true }, kinds: ['renew-lock'],
      mentions: ['paused', 'leader with the lock'] },
    { name: 'no leader: replicas do not race', view: unlocked(), local: replica('b'), settings: { pause: true }, kinds: [],
      mentions: ['automatic failover is off'] },
    { name: 'no leader: the running primary takes the free lock', view: unlocked(), local: primary('a', { holdsLock: false }),
      settings: { pause: true }, kinds: ['acquire-lock'], mentions: ['running primary'] },
    { name: 'no leader: a running primary tagged nofailover still takes the lock', view: unlocked(),
      local: primary('a', { holdsLock: false, tags: { nofailover: true } }), settings: { pause: true }, kinds: ['acquire-lock'],
      mentions: ['running primary'] },
    { name: 'no leader: a running primary of another system does not take the lock', view: unlocked({ initialize: '7222222222222222222' }),
      local: primary('a', { holdsLock: false }), settings: { pause: true }, kinds: [], mentions: ['7222222222222222222'] },
    { name: 'a primary without the lock is not demoted', view: withLeader('b'), local: primary('a', { holdsLock: false }),
      settings: { pause: true }, kinds: [], mentions: ['paused', 'not demoting'] },
    { name: 'the named failover candidate may still take over', view: unlocked({ failover: { member: 'b' } }), local: replica('b'),
      settings: { pause: true }, kinds: ['acquire-lock', 'clear-failover', 'promote'], mentions: ['candidate named in the failover key'] },
    { name: 'a replica still re-points at a new leader', view: withLeader('c'), local: replica('b', { following: 'a' }),
      settings: { pause: true }, kinds: ['follow'], mentions: ['the leader c'] },
  ]);
});
