/**
 * The synchronous replication resolver (src/ha/sync.ts, ha-cycle.md §2.7): which standbys are
 * chosen, the GUC text, and the order of /sync and GUC changes that keeps the invariant "in /sync
 * only when in the GUC, reported sync and caught up".
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { MemberTags, SyncState } from '../../src/dcs/types.js';
import {
  chooseSyncStandbys, confirmedSync, parseSyncGuc, renderSyncGuc, resolveSync, type SyncInput, type SyncReplicationRow,
} from '../../src/ha/sync.js';
import { member } from './builders.js';

const row = (name: string, flush: number, sync = 'async', state = 'streaming'): SyncReplicationRow =>
  ({ applicationName: name, state, syncState: sync, flushLsn: flush });

function input(o: Partial<SyncInput> & { tags?: Record<string, MemberTags>; down?: string[] } = {}): SyncInput {
  const names = ['a', 'b', 'c', 'd'];
  const members = new Map(names.map((n) => [n, member(n, {
    role: n === 'a' ? 'primary' : 'replica', ...(o.tags?.[n] ? { tags: o.tags[n] } : {}),
    ...(o.down?.includes(n) ? { state: 'stopped' } : {}),
  })]));
  return {
    me: 'a', replication: [], members, nodeCount: 1, maxLagOnSyncnode: -1, strict: false,
    current: { leader: 'a', sync_standby: [] }, guc: '', gucSinceLsn: 0, ...o,
  };
}

const sync = (...standbys: string[]): SyncState => ({ leader: 'a', sync_standby: standbys });

describe('synchronous_standby_names text', () => {
  test('render: none, strict none, one, several (quoted, quotes doubled)', () => {
    assert.equal(renderSyncGuc([], false), '');
    assert.equal(renderSyncGuc([], true), '*');
    assert.equal(renderSyncGuc(['b'], false), '"b"');
    assert.equal(renderSyncGuc(['b', 'we"ird'], true), '2 ("b","we""ird")');
  });
  test('parse accepts our forms and PostgreSQL\'s', () => {
    assert.deepEqual(parseSyncGuc(''), []);
    assert.deepEqual(parseSyncGuc('*'), ['*']);
    assert.deepEqual(parseSyncGuc('"Node1"'), ['Node1']);
    assert.deepEqual(parseSyncGuc('2 ("b","we""ird")'), ['b', 'we"ird']);
    assert.deepEqual(parseSyncGuc('FIRST 1 (B, c)'), ['b', 'c']);
    assert.deepEqual(parseSyncGuc('b, c'), ['b', 'c']);
  });
});

describe('choosing synchronous standbys', () => {
  const cases: { name: string; in: SyncInput; want: string[] }[] = [
    { name: 'the most advanced streaming standby', in: input({ replication: [row('b', 100), row('c', 200)] }), want: ['c'] },
    { name: 'a standby already sync is kept even when another is ahead',
      in: input({ replication: [row('b', 100, 'sync'), row('c', 200)] }), want: ['b'] },
    { name: 'nosync members are never chosen', in: input({ replication: [row('b', 100), row('c', 200)], tags: { c: { nosync: true } } }), want: ['b'] },
    { name: 'nofailover members come last', in: input({ replication: [row('b', 100), row('c', 200)], tags: { c: { nofailover: true } } }), want: ['b'] },
    { name: 'a nofailover member is chosen when it is the only one', in: input({ replication: [row('c', 200)], tags: { c: { nofailover: true } } }), want: ['c'] },
    { name: 'rows not streaming, without LSN, of unknown or stopped members are skipped',
      in: input({ replication: [row('b', 100, 'async', 'catchup'), { ...row('c', 0), flushLsn: null }, row('zz', 500), row('d', 50)], down: ['d'] }), want: [] },
    { name: 'synchronous_node_count 2 takes the two best', in: input({ nodeCount: 2, replication: [row('b', 100), row('c', 300), row('d', 200)] }), want: ['c', 'd'] },
    { name: 'maximum_lag_on_syncnode drops a lagging standby',
      in: input({ nodeCount: 2, maxLagOnSyncnode: 50, replication: [row('b', 100), row('c', 300), row('d', 280)] }), want: ['c', 'd'] },
    { name: 'application_name matches member names case-insensitively', in: input({ replication: [row('B', 10)] }), want: ['b'] },
  ];
  for (const c of cases) test(c.name, () => assert.deepEqual(chooseSyncStandbys(c.in), c.want));

  test('confirmed: in the GUC, reported sync, and flushed past the LSN of the GUC change', () => {
    const base = { guc: '2 ("b","c")', gucSinceLsn: 150 };
    assert.deepEqual(confirmedSync(input({ ...base, replication: [row('b', 200, 'sync'), row('c', 100, 'sync'), row('d', 300, 'sync')] })), ['b']);
    assert.deepEqual(confirmedSync(input({ ...base, replication: [row('b', 200, 'async')] })), []);
    assert.deepEqual(confirmedSync(input({ guc: '*', replication: [row('b', 200, 'sync')] })), [], "'*' confirms nobody by name");
  });
});

describe('resolveSync: order of /sync and GUC changes', () => {
  const cases: { name: string; in: SyncInput; steps: unknown[]; mentions?: string[] }[] = [
    { name: 'empty /sync is claimed before anything else; the GUC then names the best standby',
      in: input({ current: null, replication: [row('b', 100)] }),
      steps: [{ kind: 'write-sync', value: sync() }, { kind: 'set-guc', value: '"b"' }], mentions: ['claiming /sync'] },
    { name: 'a newcomer goes into the GUC first, not into /sync',
      in: input({ replication: [row('b', 100)] }), steps: [{ kind: 'set-guc', value: '"b"' }] },
    { name: 'confirmed under the GUC: named in /sync',
      in: input({ guc: '"b"', gucSinceLsn: 90, replication: [row('b', 100, 'sync')] }),
      steps: [{ kind: 'write-sync', value: sync('b') }], mentions: ['naming b in /sync'] },
    { name: 'reported sync but not yet past the GUC change LSN: wait',
      in: input({ guc: '"b"', gucSinceLsn: 500, replication: [row('b', 100, 'sync')] }), steps: [], mentions: ['waiting for b'] },
    { name: 'steady state: nothing to do', in: input({ current: sync('b'), guc: '"b"', replication: [row('b', 100, 'sync'), row('c', 100)] }), steps: [] },
    { name: 'the sync standby disconnected: /sync shrinks first, then the GUC moves to the other',
      in: input({ current: sync('b'), guc: '"b"', replication: [row('c', 100)] }),
      steps: [{ kind: 'write-sync', value: sync() }, { kind: 'set-guc', value: '"c"' }], mentions: ['removing b from /sync first'] },
    { name: 'strict mode, no standby left: /sync shrinks, then * (writes block)',
      in: input({ strict: true, current: sync('b'), guc: '"b"', replication: [] }),
      steps: [{ kind: 'write-sync', value: sync() }, { kind: 'set-guc', value: '*' }] },
    { name: 'non-strict mode, no standby left: the GUC is emptied after /sync',
      in: input({ current: sync('b'), guc: '"b"', replication: [] }),
      steps: [{ kind: 'write-sync', value: sync() }, { kind: 'set-guc', value: '' }] },
    { name: 'strict with * in force and a standby streaming: name it in the GUC, not in /sync',
      in: input({ strict: true, guc: '*', replication: [row('b', 100, 'sync')] }), steps: [{ kind: 'set-guc', value: '"b"' }] },
    { name: 'a sync standby tagged nosync is dropped from /sync before the GUC',
      in: input({ current: sync('b'), guc: '"b"', replication: [row('b', 100, 'sync'), row('c', 100)], tags: { b: { nosync: true } } }),
      steps: [{ kind: 'write-sync', value: sync() }, { kind: 'set-guc', value: '"c"' }] },
    { name: 'raising synchronous_node_count keeps the confirmed one in /sync while the GUC grows',
      in: input({ nodeCount: 2, current: sync('b'), guc: '"b"', replication: [row('b', 100, 'sync'), row('c', 100)] }),
      steps: [{ kind: 'set-guc', value: '2 ("b","c")' }] },
    { name: '/sync written by another leader is taken over with only confirmed names',
      in: input({ current: { leader: 'z', sync_standby: ['b', 'c'] }, guc: '"b"', replication: [row('b', 100, 'sync')] }),
      steps: [{ kind: 'write-sync', value: sync('b') }] },
    { name: '/sync naming a standby PostgreSQL no longer reports sync is corrected',
      in: input({ current: sync('b'), guc: '"b"', replication: [row('b', 100, 'potential')] }),
      steps: [{ kind: 'write-sync', value: sync() }], mentions: ['waiting for b'] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const plan = resolveSync(c.in);
      assert.deepEqual(plan.steps, c.steps, plan.reason);
      for (const m of c.mentions ?? []) assert.ok(plan.reason.includes(m), `reason "${plan.reason}" should mention "${m}"`);
    });
  }

  test('invariant: no plan ever adds to /sync a member that is not confirmed under the GUC in force', () => {
    const rows = [row('b', 100, 'sync'), row('c', 200, 'async'), row('d', 300, 'potential')];
    for (const guc of ['', '*', '"b"', '"c"', '2 ("c","d")']) {
      for (const current of [null, sync(), sync('c'), sync('b', 'd')]) {
        for (const nodeCount of [1, 2, 3]) {
          const i = input({ guc, current, nodeCount, replication: rows, gucSinceLsn: 50 });
          const ok = new Set(confirmedSync(i));
          for (const s of resolveSync(i).steps) {
            if (s.kind !== 'write-sync') continue;
            for (const n of s.value.sync_standby) assert.ok(ok.has(n), `${n} written under guc '${guc}' (${JSON.stringify(current)})`);
          }
        }
      }
    }
  });
});
