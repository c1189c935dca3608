/**
 * SyncApplier (src/ha/sync-apply.ts) against hand-written fakes of the DCS and PostgreSQL: the
 * order of its writes (/sync shrinks before the GUC changes; a standby is named only after
 * PostgreSQL confirms it), sync mode off, and the claim before a promotion.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CasResult, ClusterView, SyncState } from '../../src/dcs/types.js';
import { parseSyncGuc } from '../../src/ha/sync.js';
import { SyncApplier, type SyncDcs, type SyncPg, type SyncSettings } from '../../src/ha/sync-apply.js';
import { withLeader } from './builders.js';

const lsn = (n: number): string => `0/${n.toString(16).toUpperCase()}`;

/** One fake world: the /sync key, the GUC and the standbys, with a log of every write in order. */
class World {
  ops: string[] = [];
  sync: { value: SyncState; version: string } | null = null;
  private rev = 10;
  guc = '';
  ours: string | null = null;
  flush = 1000;
  /** Standbys streaming: name -> flushed LSN. PostgreSQL reports 'sync' for those the GUC names. */
  standbys = new Map<string, number>([['b', 1000], ['c', 1000]]);

  readonly dcs: SyncDcs = {
    setSync: async (value, expect): Promise<CasResult> => {
      if ((this.sync?.version ?? null) !== expect) return { ok: false, reason: 'version-mismatch' };
      this.sync = { value, version: String(++this.rev) };
      this.ops.push(`sync=[${value.sync_standby.join(',')}]`);
      return { ok: true, version: this.sync.version };
    },
    deleteSync: async (expect): Promise<CasResult> => {
      if ((this.sync?.version ?? null) !== expect) return { ok: false, reason: 'version-mismatch' };
      this.sync = null;
      this.ops.push('delete-sync');
      return { ok: true, version: String(++this.rev) };
    },
  };

  readonly pg: SyncPg = {
    sql: async () => {
      const named = new Set(parseSyncGuc(this.guc));
      const repl = [...this.standbys].map(([name, f]) => ({
        name, state: 'streaming', sync: named.has(name) || (this.guc === '*' && name === [...this.standbys.keys()][0]) ? 'sync' : 'async', flush: lsn(f),
      }));
      return [{ flush: lsn(this.flush), repl }];
    },
    syncStandbyNames: async () => ({ current: this.guc, ours: this.ours }),
    setSyncStandbyNames: async (v) => {
      this.ours = v;
      this.guc = v ?? '';
      this.ops.push(`guc=${v === null ? 'reset' : v}`);
    },
  };

  view(): ClusterView {
    return { ...withLeader('a'), sync: this.sync };
  }

  applier(): SyncApplier {
    return new SyncApplier(this.dcs, this.pg, { info() {} }, 'a', { times: 4, everyMs: 1 });
  }
}

const strict: SyncSettings = { mode: 'strict', nodeCount: 1, maxLagOnSyncnode: -1 };

describe('SyncApplier', () => {
  test('from nothing: claim /sync, set the GUC, then name the confirmed standby, in that order', async () => {
    const w = new World();
    w.standbys.set('b', 900); // c is further ahead and is chosen
    await w.applier().apply(w.view(), strict);
    assert.deepEqual(w.ops, ['sync=[]', 'guc="c"', 'sync=[c]']);
  });

  test('a standby confirmed sync but not flushed past the LSN of the change stays out of /sync', async () => {
    const w = new World();
    w.standbys = new Map([['b', 500]]);
    await w.applier().apply(w.view(), strict);
    assert.deepEqual(w.ops, ['sync=[]', 'guc="b"']);
    assert.deepEqual(w.sync?.value.sync_standby, []);
    w.standbys.set('b', 1000);
    await w.applier().apply(w.view(), strict);
    assert.deepEqual(w.sync?.value.sync_standby, ['b']);
  });

  test('the sync standby vanishes in strict mode: /sync shrinks first, then *', async () => {
    const w = new World();
    const a = w.applier();
    await a.apply(w.view(), strict);
    const chosen = w.sync?.value.sync_standby[0];
    assert.ok(chosen);
    w.standbys.clear();
    w.ops = [];
    await a.apply(w.view(), strict);
    assert.deepEqual(w.ops, ['sync=[]', 'guc=*']);
  });

  test('sync mode off: delete /sync, then give synchronous_standby_names back to the configuration', async () => {
    const w = new World();
    const a = w.applier();
    await a.apply(w.view(), strict);
    w.ops = [];
    await a.apply(w.view(), { ...strict, mode: 'off' });
    assert.deepEqual(w.ops, ['delete-sync', 'guc=reset']);
    w.ops = [];
    await a.apply(w.view(), { ...strict, mode: 'off' });
    assert.deepEqual(w.ops, [], 'nothing left to undo');
  });

  test('before promoting: claim /sync with no standby, and * in strict mode (reset otherwise)', async () => {
    const w = new World();
    w.sync = { value: { leader: 'old', sync_standby: ['a'] }, version: '3' };
    await w.applier().beforePromote(w.view(), true);
    assert.deepEqual(w.ops, ['sync=[]', 'guc=*']);
    assert.equal(w.sync?.value.leader, 'a');
    const w2 = new World();
    await w2.applier().beforePromote(w2.view(), false);
    assert.deepEqual(w2.ops, ['sync=[]', 'guc=reset']);
  });

  test('before promoting: a lost race on /sync throws and leaves the GUC alone', async () => {
    const w = new World();
    const stale = { ...w.view(), sync: { value: { leader: 'old', sync_standby: [] }, version: '1' } };
    w.sync = { value: { leader: 'x', sync_standby: [] }, version: '2' };
    await assert.rejects(w.applier().beforePromote(stale, true), /could not claim \/sync/);
    assert.deepEqual(w.ops, []);
  });
});
