/**
 * Empty or foreign data directory: the initialize race, waiting for the winner, cloning, and
 * adopting existing data (ha-cycle.md §2.3 steps 8-9).
 */
import { describe } from 'node:test';
import assert from 'node:assert/strict';
import { emptyNode, member, primary, replica, stopped, SYSID, T0, table, uninitialized, unlocked, withLeader } from './builders.js';

describe('empty data directory', () => {
  table([
    { name: 'bootstrap race: take the initialize key, then run initdb', view: uninitialized(), local: emptyNode('a'),
      kinds: ['acquire-initialize', 'bootstrap'], mentions: ['no leader and no initialize key'] },
    { name: 'initialize key taken but no leader yet: wait for the winner', view: unlocked({ members: [] }), local: emptyNode('b'),
      kinds: [], mentions: ['waiting for leader to bootstrap', 'initialize key is taken'] },
    { name: 'a nofailover node never bootstraps', view: uninitialized(), local: emptyNode('a', { tags: { nofailover: true } }),
      kinds: [], mentions: ['waiting for leader to bootstrap', 'nofailover'] },
    { name: 'a node without a bootstrap section never bootstraps', view: uninitialized(), local: emptyNode('a', { canBootstrap: false }),
      kinds: [], mentions: ['no bootstrap section'] },
    { name: 'leader exists: clone from the leader', view: withLeader('a'), local: emptyNode('d'), kinds: ['clone'],
      mentions: ['from a (the leader)'], check: (d) => assert.deepEqual(d.actions[0], { kind: 'clone', from: 'a' }) },
    { name: 'clone from the first running member tagged clonefrom',
      view: withLeader('a', { members: [member('a', { role: 'primary' }), member('c', { tags: { clonefrom: true } }),
        member('b', { tags: { clonefrom: true } })] }),
      local: emptyNode('d'), kinds: ['clone'], mentions: ['from b (a clonefrom member)'],
      check: (d) => assert.deepEqual(d.actions[0], { kind: 'clone', from: 'b' }) },
    { name: 'a clonefrom member that is not running is skipped',
      view: withLeader('a', { members: [member('a'), member('b', { state: 'stopped', tags: { clonefrom: true } })] }),
      local: emptyNode('d'), kinds: ['clone'], mentions: ['from a'] },
    { name: 'paused: neither bootstrap nor clone', view: withLeader('a'), local: emptyNode('d'), settings: { pause: true },
      kinds: [], mentions: ['paused'] },
    { name: 'leader whose data vanished releases the lock', view: withLeader('a'), local: emptyNode('a'),
      kinds: ['release-lock'], mentions: ['releasing the leader lock because my data directory is empty'] },
    { name: 'a bootstrap in progress runs as primary without the lock: no demotion', view: uninitialized({ initialize: '' }),
      local: primary('a', { holdsLock: false, task: { kind: 'bootstrap', startedAt: T0.mono - 5000 } }),
      kinds: [], mentions: ['bootstrap in progress'] },
  ]);
});

describe('data directory present', () => {
  table([
    { name: 'unreadable pg_control: do nothing and say so', view: withLeader('a'),
      local: { ...replica('b'), pg: { ...replica('b').pg, dataDir: 'invalid' } }, kinds: [], mentions: ['consider reinitializing'] },
    { name: 'system ID mismatch: refuse to join', view: withLeader('a', { initialize: '7111111111111111111' }),
      local: stopped('b'), kinds: [], mentions: ['system ID mismatch', '7111111111111111111', SYSID] },
    { name: 'no initialize key, stopped node: adopt its data, then start read-only', view: uninitialized(), local: stopped('a'),
      kinds: ['write-initialize', 'start'], mentions: [`adopting existing data as system ${SYSID}`],
      check: (d) => assert.deepEqual(d.actions[0], { kind: 'write-initialize', sysid: SYSID }) },
    { name: 'no initialize key, running primary: adopt its data, then take the lock', view: uninitialized(),
      local: primary('a', { holdsLock: false }), kinds: ['write-initialize', 'acquire-lock'], mentions: ['adopting existing data'] },
    { name: 'no initialize key, running replica: wait for a primary', view: uninitialized(), local: replica('b'),
      kinds: [], mentions: ['a primary must start first'] },
  ]);
});
