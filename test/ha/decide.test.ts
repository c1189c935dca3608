/**
 * decide(): the steady states and the leader race (ha-cycle.md §2.3 step 11-12, §2.4).
 * Each row names the situation; the reason must name the fact that decided it.
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { member, MIB, peer, peers, primary, replica, table, unlocked, withLeader } from './builders.js';

describe('leader side: I hold the lock', () => {
  table([
    { name: 'leader holding the lock renews it', view: withLeader('a'), local: primary('a'), kinds: ['renew-lock'],
      mentions: ['no action: I am (a), the leader with the lock'] },
    { name: 'lock winner still running as a replica promotes after renewing', view: withLeader('b'), local: replica('b'),
      kinds: ['renew-lock', 'promote'], mentions: ['hold the leader lock', 'still a replica'] },
    { name: 'newly promoted leader records its timeline in /history', view: withLeader('a', { history: [] }),
      local: primary('a', { timeline: 2 }), kinds: ['renew-lock', 'update-history'], mentions: ['leader with the lock'] },
    { name: 'leader whose timeline is already in /history does not rewrite it',
      view: withLeader('a', { history: [[1, 5000, 'no recovery target specified']] }), local: primary('a', { timeline: 2 }),
      kinds: ['renew-lock'], mentions: ['leader with the lock'] },
    { name: 'leader writes a missing /config', view: withLeader('a', { hasConfig: false }), local: primary('a'),
      kinds: ['renew-lock', 'write-config'], mentions: ['leader with the lock'] },
  ]);
});

describe('follower side: someone else holds the lock', () => {
  table([
    { name: 'replica already following the leader does nothing', view: withLeader('a'), local: replica('b'), kinds: [],
      mentions: ['no action: I am (b), a secondary, and following a leader (a)'] },
    { name: 'replica follows the new leader', view: withLeader('c'), local: replica('b', { following: 'a' }), kinds: ['follow'],
      mentions: ['the leader c', 'instead of a'],
      check: (d) => assert.deepEqual(d.actions[0], { kind: 'follow', leader: 'c' }) },
    { name: 'replica with replicatefrom streams from that running member',
      view: withLeader('a'), local: replica('c', { tags: { replicatefrom: 'b' }, following: 'a' }), kinds: ['follow'],
      mentions: ['following b per my replicatefrom tag (the leader is a)'], check: (d) => assert.deepEqual(d.actions[0], { kind: 'follow', leader: 'b' }) },
    { name: 'replicatefrom member not running: follow the leader instead',
      view: withLeader('a', { members: [member('a', { role: 'primary' }), member('b', { state: 'stopped' }), member('c')] }),
      local: replica('c', { tags: { replicatefrom: 'b' }, following: 'a' }), kinds: [], mentions: ['following a leader (a)'] },
    { name: 'primary that lost the lock to another node demotes at once', view: withLeader('b'),
      local: primary('a', { holdsLock: false }), kinds: ['demote'], mentions: ['b holds the leader lock'],
      check: (d) => assert.deepEqual(d.actions[0], { kind: 'demote', mode: 'immediate-nolock' }) },
  ]);
});

describe('leader race: nobody holds the lock', () => {
  table([
    { name: 'healthiest replica takes the lock, then promotes', view: unlocked({ optime: 1000 }),
      local: replica('b', { wal: 1000, peers: peers(peer('c', { wal: 900 })) }), kinds: ['acquire-lock', 'promote'],
      mentions: ['healthiest', '1000'] },
    { name: 'running primary re-acquires a free lock without promoting again', view: unlocked(),
      local: primary('a', { holdsLock: false }), kinds: ['acquire-lock'], mentions: ['still running as a primary'] },
    { name: 'replica beyond maximum_lag_on_failover does not race', view: unlocked({ optime: 10 * MIB }),
      local: replica('b', { wal: 5 * MIB }), kinds: [],
      mentions: ['not the healthiest node', 'my lag 5 MiB exceeds maximum_lag_on_failover 1 MiB'] },
    { name: 'replica within maximum_lag_on_failover races', view: unlocked({ optime: MIB + 500 }),
      local: replica('b', { wal: 1000 }), kinds: ['acquire-lock', 'promote'], mentions: ['healthiest'] },
    { name: 'a peer ahead of me wins the race', view: unlocked({ optime: 100 }),
      local: replica('b', { wal: 100, peers: peers(peer('c', { wal: 123 })) }), kinds: [],
      mentions: ['following a different leader because I am not the healthiest node: c has a higher WAL position (123 > 100)'] },
    { name: 'a peer still running as primary stops the race', view: unlocked(),
      local: replica('b', { peers: peers(peer('a', { primary: true })) }), kinds: [], mentions: ['primary a is still alive'] },
    { name: 'unreachable peers are ignored', view: unlocked(),
      local: replica('b', { wal: 100, peers: peers('a', peer('c', { wal: 50 })) }), kinds: ['acquire-lock', 'promote'],
      mentions: ['healthiest'] },
    { name: 'a nofailover peer ahead of me does not block me', view: unlocked(),
      local: replica('b', { wal: 100, peers: peers(peer('c', { wal: 200, tags: { nofailover: true } })) }),
      kinds: ['acquire-lock', 'promote'], mentions: ['healthiest'] },
    { name: 'a node tagged nofailover never races', view: unlocked(), local: replica('b', { tags: { nofailover: true } }),
      kinds: [], mentions: ['not allowed to promote: I am tagged nofailover'] },
    { name: 'failover_priority 0 acts like nofailover', view: unlocked(), local: replica('b', { tags: { failover_priority: 0 } }),
      kinds: [], mentions: ['not allowed to promote', 'failover_priority is 0'] },
    { name: 'equal WAL: the peer with higher failover_priority wins', view: unlocked(),
      local: replica('b', { wal: 100, peers: peers(peer('c', { wal: 100, tags: { failover_priority: 2 } })) }), kinds: [],
      mentions: ['c has the same WAL position (100)', 'higher failover_priority (2 > 1)'] },
    { name: 'check_timeline: a replica behind the cluster timeline does not race',
      view: unlocked({ history: [[1, 100, 'r'], [2, 200, 'r']] }), local: replica('b', { timeline: 2 }),
      settings: { checkTimeline: true }, kinds: [], mentions: ['my timeline 2 is behind the cluster\'s timeline 3'] },
    { name: 'without check_timeline the timeline is not compared',
      view: unlocked({ history: [[1, 100, 'r'], [2, 200, 'r']] }), local: replica('b', { timeline: 2 }),
      kinds: ['acquire-lock', 'promote'], mentions: ['healthiest'] },
    { name: 'a stale primary on an older timeline demotes instead of retaking the lock',
      view: unlocked({ history: [[1, 100, 'r'], [2, 200, 'r']] }), local: primary('a', { timeline: 2, holdsLock: false }),
      kinds: ['demote'], mentions: ['timeline 2', 'timeline 3'] },
    { name: 'a replica whose WAL position is unknown does not race', view: unlocked(), local: replica('b', { wal: null }),
      kinds: [], mentions: ['my WAL position is unknown'] },
  ]);
});
