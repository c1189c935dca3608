/**
 * Failsafe mode in decide(): the primary that lost the DCS keeps running only on a round every
 * member confirmed (dcs-unavailable.ts), and a member that accepted a POST /failsafe does not race
 * for the free lock within ttl of it (no-leader.ts); members missing from /failsafe never win.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { peer, peers, primary, replica, T0, table, unlocked, withLeader } from './builders.js';

const down = 'connect ECONNREFUSED 127.0.0.1:2379';
const confirmed = { ok: true, detail: 'all 2 members confirmed failsafe' };
const missing = { ok: false, detail: 'member c (timeout) did not confirm' };
const on = { failsafeMode: true };
const LIST = { a: 'http://a:8008/patroni', b: 'http://b:8008/patroni', c: 'http://c:8008/patroni' };

describe('failsafe: the primary while the DCS is not accessible', () => {
  table([
    { name: 'every member confirmed: the primary keeps running', view: withLeader('a'),
      local: primary('a', { dcsError: down, failsafe: confirmed }), settings: on, kinds: [],
      mentions: ['DCS is not accessible', 'continuing as primary because all 2 members confirmed failsafe'],
      check: (d) => assert.equal(d.role, 'primary') },
    { name: 'one member did not confirm: the primary demotes offline', view: withLeader('a'),
      local: primary('a', { dcsError: down, failsafe: missing }), settings: on, kinds: ['demote'],
      mentions: ['member c (timeout) did not confirm'],
      check: (d) => assert.deepEqual(d.actions[0], { kind: 'demote', mode: 'offline' }) },
    { name: 'failsafe_mode off: a confirmed round (stale fact) does not keep the primary', view: withLeader('a'),
      local: primary('a', { dcsError: down, failsafe: confirmed }), kinds: ['demote'], mentions: ['failsafe_mode is off'] },
    { name: 'no round ran (the lock was not held): demote', view: withLeader('a'),
      local: primary('a', { dcsError: down, holdsLock: false, leaseDeadline: null }), settings: on, kinds: ['demote'],
      mentions: ['did not hold a valid lock'] },
    { name: 'a confirmed round does not help a primary whose last view named another leader', view: withLeader('b'),
      local: primary('a', { dcsError: down, failsafe: confirmed }), settings: on, kinds: ['demote'], mentions: ['DCS is not accessible'] },
    { name: 'past the lease deadline a confirmed round changes nothing: immediate demotion', view: withLeader('a'),
      local: primary('a', { dcsError: down, failsafe: confirmed, leaseDeadline: T0.mono - 10 }), settings: on, kinds: ['demote'],
      mentions: ['lease expired 10 ms ago'], check: (d) => assert.deepEqual(d.actions[0], { kind: 'demote', mode: 'immediate-nolock' }) },
    { name: 'a replica keeps running whatever failsafe says', view: withLeader('a'),
      local: replica('b', { dcsError: down }), settings: on, kinds: [], mentions: ['not a primary'] },
  ]);
});

const candidates = peers(peer('a', { state: 'stopped', wal: 0 }), peer('c', { wal: 500 }));

describe('failsafe: a member that accepted POST /failsafe does not race for ttl', () => {
  table([
    { name: 'within ttl of the last POST: no race, no promotion', view: unlocked(),
      local: replica('b', { peers: candidates, failsafeSender: { name: 'a', receivedAt: T0.mono - 5_000 } }), settings: on,
      kinds: [], mentions: ['not racing', 'a confirmed over POST /failsafe 5.0 s ago'], check: (d) => assert.equal(d.role, 'replica') },
    { name: 'one millisecond before ttl ends it still holds back', view: unlocked(),
      local: replica('b', { peers: candidates, failsafeSender: { name: 'a', receivedAt: T0.mono - 29_999 } }), settings: on,
      kinds: [], mentions: ['not racing'] },
    { name: 'ttl after the last POST: normal failover rules apply (the known replica is promoted)', view: unlocked(),
      local: replica('b', { peers: candidates, failsafeSender: { name: 'a', receivedAt: T0.mono - 30_000 } }), settings: on,
      kinds: ['acquire-lock', 'promote'], mentions: ['healthiest'] },
    { name: 'failsafe_mode off: a remembered sender is ignored', view: unlocked(),
      local: replica('b', { peers: candidates, failsafeSender: { name: 'a', receivedAt: T0.mono - 1_000 } }),
      kinds: ['acquire-lock', 'promote'], mentions: ['healthiest'] },
    { name: 'a leader key in the view wins over a remembered sender', view: withLeader('c'),
      local: replica('b', { following: 'c', failsafeSender: { name: 'a', receivedAt: T0.mono - 1_000 } }), settings: on,
      kinds: [], mentions: [] },
    { name: 'a running primary without the key demotes while another member is the failsafe leader', view: unlocked(),
      local: primary('b', { holdsLock: false, leaseDeadline: null, failsafeSender: { name: 'a', receivedAt: T0.mono - 1_000 } }),
      settings: on, kinds: ['demote'], mentions: ['a confirmed over POST /failsafe'] },
  ]);
});

describe('failsafe: only members in /failsafe may win the race', () => {
  table([
    { name: 'a member missing from a non-empty /failsafe is not allowed to promote', view: unlocked({ failsafe: { a: LIST.a, c: LIST.c } }),
      local: replica('b', { peers: candidates }), settings: on, kinds: [],
      mentions: ['not allowed to promote', 'not in the /failsafe member list'] },
    { name: 'a listed member is promoted as usual', view: unlocked({ failsafe: LIST }),
      local: replica('b', { peers: candidates }), settings: on, kinds: ['acquire-lock', 'promote'], mentions: ['healthiest'] },
    { name: 'with failsafe_mode off the list does not matter', view: unlocked({ failsafe: { a: LIST.a } }),
      local: replica('b', { peers: candidates }), kinds: ['acquire-lock', 'promote'], mentions: ['healthiest'] },
  ]);
});
