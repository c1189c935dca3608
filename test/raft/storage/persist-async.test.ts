/** DiskStorage.persistAsync: fdatasync off the event loop, with persist()'s guarantees once it resolves. */
import assert from 'node:assert/strict';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe as suite, test } from 'node:test';
import { InvariantError, bootstrapState } from '../../../src/raft/core/index.js';
import { DiskStorage, StorageFailedError, type DiskStorageOptions } from '../../../src/raft/storage/index.js';
import { describe, ents, recordingLogger, tempDir } from './helpers.js';

async function withStore(opts: DiskStorageOptions, body: (s: DiskStorage, dir: string) => Promise<void>): Promise<void> {
  const { dir, remove } = tempDir();
  const path = join(dir, 'raft');
  const s = DiskStorage.open(path, { logger: recordingLogger(), ...opts });
  try {
    await body(s, path);
  } finally {
    try { s.close(); } catch { /* a test may leave it failed */ }
    remove();
  }
}

const reopened = <T>(dir: string, read: (s: DiskStorage) => T): T => {
  const s = DiskStorage.open(dir, { logger: recordingLogger() });
  try { return read(s); } finally { s.close(); }
};
const segmentBytes = (s: DiskStorage, dir: string) => statSync(join(dir, `wal-${String(s.segmentSeqs().at(-1)).padStart(10, '0')}.log`)).size;

suite('DiskStorage.persistAsync', () => {
  test('reads show the old log until it resolves; then the batch is mirrored and survives a reopen', () =>
    withStore({}, async (s, dir) => {
      s.persist(bootstrapState(['a', 'b', 'c']));
      const p = s.persistAsync({ entries: ents(2, 4, 2), hardState: { term: 2, vote: 'a', commit: 1 } });
      assert.deepEqual([s.lastIndex(), s.initialState().term], [1, 1], 'mirror updated before the fsync');
      await p;
      assert.deepEqual([s.lastIndex(), s.initialState()], [4, { term: 2, vote: 'a', commit: 1 }]);
      s.close();
      assert.deepEqual(reopened(dir, (r) => [describe(r.entries(2, 5)), r.initialState()]),
        [['2/2:e2t2', '3/2:e3t2', '4/2:e4t2'], { term: 2, vote: 'a', commit: 1 }]);
    }));

  test('one write at a time: another write, a compaction or close() while one is in flight is refused', () =>
    withStore({}, async (s) => {
      s.persist(bootstrapState(['a']));
      const p = s.persistAsync({ entries: ents(2, 2, 1) });
      assert.throws(() => s.persist({ entries: ents(3, 3, 1) }), InvariantError);
      await assert.rejects(s.persistAsync({ entries: ents(3, 3, 1) }), InvariantError);
      assert.throws(() => s.close(), InvariantError);
      await p;
      await s.persistAsync({ entries: ents(3, 3, 1) });
      assert.equal(s.lastIndex(), 3);
    }));

  test('a batch that only advances the commit index resolves without writing; it rides along with the next write', () =>
    withStore({ preallocateBytes: 0 }, async (s, dir) => {
      s.persist(bootstrapState(['a']));
      await s.persistAsync({ entries: ents(2, 3, 1), hardState: { term: 1, vote: 'a', commit: 1 } });
      const size = segmentBytes(s, dir);
      await s.persistAsync({ hardState: { term: 1, vote: 'a', commit: 3 } });
      assert.equal(segmentBytes(s, dir), size);
      assert.equal(s.initialState().commit, 3);
      await s.persistAsync({ entries: ents(4, 4, 1) });
      assert.ok(segmentBytes(s, dir) > size);
      s.close();
      assert.equal(reopened(dir, (r) => r.initialState().commit), 3);
    }));

  test('a snapshot batch installs it (synchronously) and survives a reopen', () =>
    withStore({}, async (s, dir) => {
      s.persist(bootstrapState(['a', 'b']));
      const snap = { index: 10, term: 3, confState: { voters: ['a', 'b'], learners: [] }, data: new TextEncoder().encode('image') };
      await s.persistAsync({ snapshot: snap, hardState: { term: 3, vote: null, commit: 10 } });
      assert.deepEqual([s.firstIndex(), s.snapshot().index], [11, 10]);
      s.close();
      assert.deepEqual(reopened(dir, (r) => [r.snapshot().index, r.initialState()]), [10, { term: 3, vote: null, commit: 10 }]);
    }));

  test('an I/O error rejects with StorageFailedError and poisons the store', () =>
    withStore({ segmentBytes: 100 }, async (s, dir) => {
      s.persist(bootstrapState(['a']));
      rmSync(dir, { recursive: true }); // the rotation after this batch cannot create its segment
      await assert.rejects(s.persistAsync({ entries: ents(2, 4, 1) }), (e: unknown) => e instanceof StorageFailedError && e.message.includes(dir));
      await assert.rejects(s.persistAsync({ entries: ents(5, 5, 1) }), StorageFailedError);
    }));
});
