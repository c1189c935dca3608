/** DiskStorage's write API and what a reopen gives back: round trip, truncation, snapshots, compaction, rotation, locking. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe as suite, test } from 'node:test';
import { InvariantError, bootstrapState } from '../../../src/raft/core/index.js';
import type { Entry, Snapshot } from '../../../src/raft/core/types.js';
import { DiskStorage, StorageFailedError, StorageLockedError, type DiskStorageOptions } from '../../../src/raft/storage/index.js';
import { describe, ents, recordingLogger, tempDir } from './helpers.js';

const ascii = (s: string) => new TextEncoder().encode(s);
const snapAt = (index: number, term: number, data = `image@${index}`): Snapshot => ({ index, term, confState: { voters: ['a', 'b', 'c'], learners: ['d'] }, data: ascii(data) });

/** Runs `body` with a store in a fresh dir; `reopen` closes it and opens the dir again. */
async function withStore(
  opts: DiskStorageOptions,
  body: (s: DiskStorage, reopen: (o?: DiskStorageOptions) => DiskStorage, dir: string) => void | Promise<void>,
): Promise<void> {
  const { dir, remove } = tempDir();
  let s = DiskStorage.open(join(dir, 'raft'), { logger: recordingLogger(), ...opts });
  try {
    await body(s, (o) => { s.close(); s = DiskStorage.open(join(dir, 'raft'), { logger: recordingLogger(), ...opts, ...o }); return s; }, join(dir, 'raft'));
  } finally {
    s.close();
    remove();
  }
}

const all = (s: DiskStorage) => describe(s.entries(s.firstIndex(), s.lastIndex() + 1));

suite('DiskStorage', () => {
  test('a fresh store reads as a blank node, with a 0700 directory and 0600 files', () =>
    withStore({}, (s, _reopen, dir) => {
      assert.deepEqual(s.initialState(), { term: 0, vote: null, commit: 0 });
      assert.deepEqual([s.firstIndex(), s.lastIndex(), s.term(0), s.snapshot().index], [1, 0, 0, 0]);
      assert.deepEqual(s.entries(1, 1), []);
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      for (const f of readdirSync(dir)) assert.equal(statSync(join(dir, f)).mode & 0o777, 0o600, f);
    }));

  test('entries, hard state and snapshot survive a reopen exactly', () =>
    withStore({}, (s, reopen) => {
      s.persist(bootstrapState(['a', 'b', 'c'], ascii('genesis')));
      const mixed: Entry[] = [
        { index: 2, term: 2, type: 'noop', data: new Uint8Array(0) },
        { index: 3, term: 2, type: 'conf-change', data: ascii('{"kind":"add-learner","node":"d"}') },
        ...ents(4, 9, 2),
      ];
      s.persist({ entries: mixed, hardState: { term: 2, vote: 'b', commit: 5 } });
      s.persist({ entries: ents(10, 10, 2), hardState: { term: 2, vote: 'b', commit: 10 } });
      const before = { hs: s.initialState(), snap: s.snapshot(), entries: s.entries(2, 11) };
      const r = reopen();
      assert.deepEqual({ hs: r.initialState(), snap: r.snapshot(), entries: r.entries(2, 11) }, before);
      assert.deepEqual(r.snapshot(), { index: 1, term: 1, confState: { voters: ['a', 'b', 'c'], learners: [] }, data: ascii('genesis') });
      assert.deepEqual([r.firstIndex(), r.lastIndex(), r.term(1), r.term(10), r.term(11)], [2, 10, 1, 2, null]);
      assert.equal(r.entries(1, 3), null, 'index 1 is covered by the snapshot');
    }));

  test('an append that conflicts truncates the stored suffix, also after a reopen', () =>
    withStore({}, (s, reopen) => {
      s.append(ents(1, 10, 1));
      s.persist({ entries: ents(6, 8, 2), hardState: { term: 2, vote: null, commit: 5 } });
      assert.equal(s.lastIndex(), 8);
      const want = [...describe(ents(1, 5, 1))!, ...describe(ents(6, 8, 2))!];
      assert.deepEqual(all(s), want);
      const r = reopen();
      assert.deepEqual(all(r), want);
      r.append(ents(9, 9, 2));
      assert.deepEqual(all(reopen()), [...want, '9/2:e9t2']);
    }));

  test('caller bugs throw InvariantError and write nothing', () =>
    withStore({}, (s, reopen) => {
      s.persist({ entries: ents(1, 3, 1), hardState: { term: 1, vote: null, commit: 2 } });
      assert.throws(() => s.append(ents(5, 5, 1)), (e: unknown) => e instanceof InvariantError && /gap after 3/.test(e.message));
      assert.throws(() => s.append([...ents(4, 4, 1), ...ents(6, 6, 1)]), /not consecutive/);
      assert.throws(() => s.setHardState({ term: 1, vote: null, commit: 4 }), /commit 4 is beyond the last entry 3/);
      assert.throws(() => s.compact(3, snapAt(3, 1)), /beyond the commit index 2/);
      assert.throws(() => s.compact(2, snapAt(2, 9)), /has term 9, the log has 1/);
      assert.throws(() => s.append([{ ...ents(4, 4, 1)[0]!, type: 'bogus' as Entry['type'] }]), (e: unknown) => e instanceof RangeError && /"bogus"/.test(e.message));
      s.append(ents(4, 4, 1)); // the refusals left the store usable
      const r = reopen();
      assert.deepEqual([r.lastIndex(), r.initialState().commit], [4, 2]);
    }));

  test('a snapshot from the leader replaces the whole log and old segments', () =>
    withStore({ segmentBytes: 256 }, (s, reopen, dir) => {
      for (let i = 1; i <= 20; i++) s.persist({ entries: ents(i, i, 1), hardState: { term: 1, vote: null, commit: i - 1 } });
      assert.ok(s.segmentSeqs().length > 3);
      s.persist({ snapshot: snapAt(50, 3), entries: ents(51, 52, 3), hardState: { term: 3, vote: null, commit: 50 } });
      const check = (x: DiskStorage) => {
        assert.deepEqual([x.firstIndex(), x.lastIndex(), x.term(50), x.term(20), x.initialState().commit], [51, 52, 3, null, 50]);
        assert.deepEqual(x.snapshot(), snapAt(50, 3));
        assert.deepEqual(all(x), ['51/3:e51t3', '52/3:e52t3']);
      };
      check(s);
      assert.equal(s.segmentSeqs().length, 1);
      assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('wal-')).length, 1);
      check(reopen());
    }));

  test('compaction drops entries up to the index, keeps later ones, and deletes whole segments below it', () =>
    withStore({ segmentBytes: 200 }, (s, reopen, dir) => {
      for (let i = 1; i <= 60; i++) s.persist({ entries: ents(i, i, 1), hardState: { term: 1, vote: 'a', commit: i } });
      const segsBefore = s.segmentSeqs().length;
      s.compact(40, snapAt(45, 1));
      const check = (x: DiskStorage) => {
        assert.deepEqual([x.firstIndex(), x.lastIndex(), x.term(40), x.term(39), x.snapshot().index], [41, 60, 1, null, 45]);
        assert.equal(x.entries(40, 42), null);
        assert.deepEqual(describe(x.entries(41, 43)), ['41/1:e41t1', '42/1:e42t1']);
        assert.deepEqual(x.initialState(), { term: 1, vote: 'a', commit: 60 });
      };
      check(s);
      assert.ok(s.segmentSeqs().length < segsBefore / 2, `${s.segmentSeqs().length} of ${segsBefore} segments left`);
      const onDisk = readdirSync(dir).filter((f) => f.startsWith('wal-')).length;
      assert.equal(onDisk, s.segmentSeqs().length);
      check(reopen());
    }));

  test('entries overwritten below the compaction point do not come back on reopen', () =>
    withStore({}, (s, reopen) => {
      // A follower holding uncommitted 21..30 of term 1 is overwritten from 21 by a new leader,
      // commits and compacts at 25 while its log ends there.
      s.persist({ entries: ents(1, 30, 1), hardState: { term: 1, vote: null, commit: 20 } });
      s.persist({ entries: ents(21, 25, 2), hardState: { term: 2, vote: null, commit: 25 } });
      s.compact(25, snapAt(25, 2));
      const r = reopen();
      assert.deepEqual([r.firstIndex(), r.lastIndex(), r.term(25)], [26, 25, 2]);
      r.append(ents(26, 26, 2));
      assert.deepEqual(all(reopen()), ['26/2:e26t2']);
    }));

  test('segments rotate at the size limit and are all read back', () =>
    withStore({ segmentBytes: 1024 }, (s, reopen) => {
      for (let i = 1; i <= 300; i += 3) s.persist({ entries: ents(i, i + 2, 1), hardState: { term: 1, vote: null, commit: i + 2 } });
      assert.ok(s.segmentSeqs().length >= 5);
      const want = all(s);
      const r = reopen();
      assert.deepEqual(all(r), want);
      assert.equal(r.lastIndex(), 300);
      assert.equal(r.initialState().commit, 300);
    }));

  test('a second open of a directory in use fails; a lock left by a dead process is taken over', () =>
    withStore({}, (s, reopen, dir) => {
      assert.throws(() => DiskStorage.open(dir), (e: unknown) => e instanceof StorageLockedError && e.message.includes(dir) && e.message.includes(String(process.pid)));
      s.append(ents(1, 1, 1));
      s.close();
      const dead = spawnSync(process.execPath, ['-e', '']).pid;
      assert.ok(dead !== undefined);
      writeFileSync(join(dir, 'LOCK'), `${dead}\n`);
      const r = reopen();
      assert.equal(r.lastIndex(), 1);
      assert.ok(existsSync(join(dir, 'LOCK')));
    }));

  test('after an I/O error every further write is refused with StorageFailedError', () =>
    withStore({ segmentBytes: 100 }, (s, _reopen, dir) => {
      rmSync(dir, { recursive: true }); // the next rotation cannot create its segment
      assert.throws(() => s.append(ents(1, 3, 1)), (e: unknown) => e instanceof StorageFailedError && e.message.includes(dir) && /ENOENT/.test(e.message));
      assert.throws(() => s.setHardState({ term: 1, vote: null, commit: 0 }), StorageFailedError);
    }));

  test('use after close is refused', () =>
    withStore({}, (s, reopen) => {
      s.close();
      assert.throws(() => s.append(ents(1, 1, 1)), /closed/);
      reopen();
    }));
});
