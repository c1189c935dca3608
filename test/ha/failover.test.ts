/**
 * Manual failover / switchover (the failover key) on both sides, and synchronous mode's /sync
 * gate (ha-cycle.md §2.4, §2.6, §2.7).
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { member, MIB, peer, peers, primary, replica, T0, table, unlocked, withLeader } from './builders.js';

const iso = (offsetS: number): string => new Date(T0.wall + offsetS * 1000).toISOString();
const graceful = { kind: 'demote', mode: 'graceful' };

describe('failover key, leader side', () => {
  table([
    { name: 'switchover to a healthy candidate: demote gracefully', view: withLeader('a', { failover: { leader: 'a', member: 'b' } }),
      local: primary('a'), kinds: ['renew-lock', 'demote'], mentions: ['switchover', 'b can take over'],
      check: (d) => assert.deepEqual(d.actions[1], graceful) },
    { name: 'failover key without candidate: demote for the first eligible member',
      view: withLeader('a', { failover: { leader: 'a' } }), local: primary('a'), kinds: ['renew-lock', 'demote'],
      mentions: ['b can take over'] },
    { name: 'switchover scheduled beyond loop_wait: wait',
      view: withLeader('a', { failover: { leader: 'a', member: 'b', scheduled_at: iso(60) } }), local: primary('a'),
      kinds: ['renew-lock'], mentions: ['waiting for the switchover scheduled at', iso(60)] },
    { name: 'switchover scheduled within loop_wait: act now',
      view: withLeader('a', { failover: { leader: 'a', member: 'b', scheduled_at: iso(5) } }), local: primary('a'),
      kinds: ['renew-lock', 'demote'], mentions: ['switchover'] },
    { name: 'switchover scheduled 10 s ago (within 1.5 x loop_wait): act now',
      view: withLeader('a', { failover: { leader: 'a', member: 'b', scheduled_at: iso(-10) } }), local: primary('a'),
      kinds: ['renew-lock', 'demote'], mentions: ['switchover'] },
    { name: 'switchover scheduled 20 s ago (more than 1.5 x loop_wait): clear the key',
      view: withLeader('a', { failover: { leader: 'a', member: 'b', scheduled_at: iso(-20) } }), local: primary('a'),
      kinds: ['renew-lock', 'clear-failover'], mentions: ['20 s overdue', '1.5 x loop_wait'] },
    { name: 'unparseable scheduled_at: clear the key', view: withLeader('a', { failover: { member: 'b', scheduled_at: 'tomorrow' } }),
      local: primary('a'), kinds: ['renew-lock', 'clear-failover'], mentions: ['"tomorrow" is not a valid'] },
    { name: 'key naming another leader: clear it', view: withLeader('a', { failover: { leader: 'c', member: 'b' } }),
      local: primary('a'), kinds: ['renew-lock', 'clear-failover'], mentions: ['names c as the leader'] },
    { name: 'key naming me as candidate: clear it', view: withLeader('a', { failover: { member: 'a' } }), local: primary('a'),
      kinds: ['renew-lock', 'clear-failover'], mentions: ['candidate a is already the leader'] },
    { name: 'candidate that is not a member: clear the key', view: withLeader('a', { failover: { member: 'zz' } }),
      local: primary('a'), kinds: ['renew-lock', 'clear-failover'], mentions: ['zz is not a member'] },
    { name: 'candidate tagged nofailover: clear the key',
      view: withLeader('a', { failover: { member: 'b' }, members: [member('a'), member('b', { tags: { nofailover: true } })] }),
      local: primary('a'), kinds: ['renew-lock', 'clear-failover'], mentions: ['b is tagged nofailover'] },
    { name: 'candidate lagging beyond maximum_lag_on_failover: clear the key',
      view: withLeader('a', { failover: { member: 'b' }, members: [member('a'), member('b', { wal: 0 })] }),
      local: primary('a', { wal: 3 * MIB }), kinds: ['renew-lock', 'clear-failover'], mentions: ['b lags 3 MiB'] },
    { name: 'stopped candidate: clear the key',
      view: withLeader('a', { failover: { member: 'b' }, members: [member('a'), member('b', { state: 'stopped' })] }),
      local: primary('a'), kinds: ['renew-lock', 'clear-failover'], mentions: ["b is not running (its state is 'stopped')"] },
    { name: 'paused: a scheduled switchover is refused',
      view: withLeader('a', { failover: { member: 'b', scheduled_at: iso(0) } }), local: primary('a'), settings: { pause: true },
      kinds: ['renew-lock', 'clear-failover'], mentions: ['paused'] },
    { name: 'paused: a switchover to a named candidate is still honoured',
      view: withLeader('a', { failover: { leader: 'a', member: 'b' } }), local: primary('a'), settings: { pause: true },
      kinds: ['renew-lock', 'demote'], mentions: ['b can take over'] },
  ]);
});

describe('failover key, no leader', () => {
  table([
    { name: 'the named candidate takes the lock, clears the key, promotes',
      view: unlocked({ failover: { leader: 'a', member: 'b' } }), local: replica('b', { peers: peers(peer('c', { wal: 5000 })) }),
      kinds: ['acquire-lock', 'clear-failover', 'promote'], mentions: ['candidate named in the failover key'] },
    { name: 'others stand back while the named candidate is healthy',
      view: unlocked({ failover: { member: 'c' } }), local: replica('b', { wal: 9000, peers: peers(peer('c', { wal: 10 })) }),
      kinds: [], mentions: ['failover candidate c is healthy'] },
    { name: 'an unreachable candidate is ignored: the healthiest node takes over',
      view: unlocked({ failover: { member: 'c' } }), local: replica('b', { wal: 100, peers: peers('c') }),
      kinds: ['acquire-lock', 'clear-failover', 'promote'], mentions: ['healthiest'] },
    { name: 'former leader named in the key stands back when another member can take over',
      view: unlocked({ failover: { leader: 'a' } }), local: replica('a', { peers: peers(peer('b', { wal: 1000 })) }),
      kinds: [], mentions: ['former leader', 'b can take over'] },
    { name: 'former leader takes over when nobody else can',
      view: unlocked({ failover: { leader: 'a' }, members: [member('a'), member('b', { state: 'stopped' })] }),
      local: replica('a'), kinds: ['acquire-lock', 'clear-failover', 'promote'], mentions: ['no other member can take over'] },
    { name: 'failover away from a leader: the comparison skips the former leader and the lag check',
      view: unlocked({ optime: 50 * MIB, failover: { leader: 'a' } }),
      local: replica('b', { wal: 100, peers: peers(peer('a', { wal: 50 * MIB })) }),
      kinds: ['acquire-lock', 'clear-failover', 'promote'], mentions: ['healthiest'] },
  ]);
});

describe('synchronous mode: only /sync members may take over', () => {
  const sync = { leader: 'a', standbys: ['c'] };
  table([
    { name: 'a replica not in /sync never races', view: unlocked({ sync }), local: replica('b'), settings: { synchronousMode: true },
      kinds: [], mentions: ['not allowed to promote', 'not a synchronous standby listed in /sync'] },
    { name: 'the /sync standby races even when the former leader is ahead', view: unlocked({ sync }),
      local: replica('c', { wal: 100, peers: peers(peer('a', { wal: 200 })) }), settings: { synchronousMode: true },
      kinds: ['acquire-lock', 'prepare-sync', 'promote'], mentions: ['healthiest'],
      check: (d) => assert.deepEqual(d.actions[1], { kind: 'prepare-sync', strict: false }) },
    { name: 'an async replica ahead of the /sync standby does not block it', view: unlocked({ sync }),
      local: replica('c', { wal: 100, peers: peers(peer('b', { wal: 900 })) }), settings: { synchronousMode: true },
      kinds: ['acquire-lock', 'prepare-sync', 'promote'], mentions: ['healthiest'] },
    { name: 'strict mode: prepare-sync asks for synchronous_standby_names = *', view: unlocked({ sync }),
      local: replica('c'), settings: { synchronousMode: true, synchronousModeStrict: true },
      kinds: ['acquire-lock', 'prepare-sync', 'promote'], mentions: ['healthiest'],
      check: (d) => assert.deepEqual(d.actions[1], { kind: 'prepare-sync', strict: true }) },
    { name: 'a /sync with a leader and no standby lets nobody else take over', view: unlocked({ sync: { leader: 'a', standbys: [] } }),
      local: replica('b', { peers: peers(peer('c', { wal: 0 })) }), settings: { synchronousMode: true },
      kinds: [], mentions: ['not allowed to promote', '/sync'] },
    { name: 'the former leader named in /sync may take the lock back', view: unlocked({ sync: { leader: 'a', standbys: [] } }),
      local: replica('a'), settings: { synchronousMode: true }, kinds: ['acquire-lock', 'prepare-sync', 'promote'], mentions: ['healthiest'] },
    { name: 'a /sync standby refuses when another /sync standby is ahead', view: unlocked({ sync: { leader: 'a', standbys: ['b', 'c'] } }),
      local: replica('c', { wal: 100, peers: peers(peer('b', { wal: 300 })) }), settings: { synchronousMode: true },
      kinds: [], mentions: ['b has a higher WAL position (300 > 100)'] },
    { name: 'the lock holder still a replica promotes through prepare-sync', view: withLeader('c', { sync }),
      local: replica('c'), settings: { synchronousMode: true }, kinds: ['renew-lock', 'prepare-sync', 'promote'], mentions: ['hold the leader lock'] },
    { name: '/sync is ignored when synchronous_mode is off', view: unlocked({ sync }), local: replica('b'),
      kinds: ['acquire-lock', 'promote'], mentions: ['healthiest'] },
    { name: 'the named candidate outside /sync is not promoted', view: unlocked({ sync, failover: { member: 'b' } }),
      local: replica('b'), settings: { synchronousMode: true }, kinds: [], mentions: ['/sync'] },
    { name: 'switchover to a candidate outside /sync is refused by the leader',
      view: withLeader('a', { sync, failover: { member: 'b' } }), local: primary('a'), settings: { synchronousMode: true },
      kinds: ['renew-lock', 'clear-failover'], mentions: ['b is not a synchronous standby in /sync'] },
  ]);
});
