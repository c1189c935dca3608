import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvariantError } from '../../src/raft/core/errors.js';
import { RaftLog } from '../../src/raft/core/log.js';
import { MemoryStorage } from '../../src/raft/core/storage.js';
import type { Entry } from '../../src/raft/core/types.js';

const e = (term: number, index: number): Entry => ({ term, index, type: 'normal', data: new Uint8Array([index]) });

function storageWith(...ents: Entry[]): MemoryStorage {
  const s = MemoryStorage.bootstrap(['a']);
  s.append(ents);
  return s;
}

describe('raft log', () => {
  test('reads span stable and unstable entries', () => {
    const log = new RaftLog(storageWith(e(1, 2), e(1, 3)), 1, 1);
    log.append([e(2, 4), e(2, 5)]);
    assert.equal(log.lastIndex(), 5);
    assert.deepEqual(log.entries(2, 6)!.map((x) => `${x.term}/${x.index}`), ['1/2', '1/3', '2/4', '2/5']);
    assert.equal(log.term(1), 1, 'the snapshot stands in for the compacted entry');
    assert.equal(log.term(0), null);
    assert.equal(log.entries(1, 3), null, 'compacted');
  });

  test('a conflicting append truncates the stable tail too', () => {
    const log = new RaftLog(storageWith(e(1, 2), e(1, 3), e(1, 4)), 1, 1);
    const res = log.maybeAppend(2, 1, 0, [e(1, 3), e(3, 4), e(3, 5)]);
    assert.deepEqual(res, { lastNew: 5, conflictFrom: 4 });
    assert.deepEqual(log.unstableEntries().map((x) => x.index), [4, 5]);
    assert.equal(log.term(4), 3);
    assert.equal(log.maybeAppend(5, 2, 0, []), null, 'no entry 5 of term 2');
  });

  test('overwriting a committed entry is an invariant violation', () => {
    const log = new RaftLog(storageWith(e(1, 2), e(1, 3)), 3, 1);
    assert.throws(() => log.append([e(2, 3)]), InvariantError);
  });

  test('up-to-date comparison follows §5.4.1', () => {
    const log = new RaftLog(storageWith(e(2, 2), e(2, 3)), 1, 1);
    assert.equal(log.isUpToDate(3, 2), true);
    assert.equal(log.isUpToDate(2, 2), false);
    assert.equal(log.isUpToDate(1, 3), true, 'a higher last term wins regardless of length');
  });

  test('stableTo forgets persisted unstable entries only if they were not replaced', () => {
    const s = storageWith();
    const log = new RaftLog(s, 1, 1);
    log.append([e(1, 2), e(1, 3)]);
    log.append([e(2, 3)]); // replaces 3 before the driver persisted the first batch
    log.stableTo(3, 1);
    assert.equal(log.unstableEntries().length, 2);
    s.append(log.unstableEntries());
    log.stableTo(3, 2);
    assert.equal(log.unstableEntries().length, 0);
    assert.equal(log.term(3), 2);
  });

  test('the first index of a term run, for rejection hints', () => {
    const log = new RaftLog(storageWith(e(1, 2), e(2, 3), e(2, 4), e(2, 5)), 1, 1);
    assert.equal(log.firstIndexOfTermAt(5), 3);
    assert.equal(log.firstIndexOfTermAt(2), 2);
  });
});

describe('memory storage', () => {
  test('snapshot, then compaction up to it', () => {
    const s = storageWith(e(1, 2), e(1, 3), e(2, 4));
    s.createSnapshot(3, { voters: ['a'], learners: [] }, new Uint8Array([9]));
    assert.throws(() => s.compact(4), InvariantError, 'cannot compact beyond the snapshot');
    s.compact(3);
    assert.equal(s.firstIndex(), 4);
    assert.equal(s.term(3), 1);
    assert.equal(s.entries(3, 4), null);
    assert.deepEqual(s.entries(4, 5)!.map((x) => x.index), [4]);
  });

  test('an append leaving a gap is refused', () => {
    assert.throws(() => storageWith().append([e(1, 5)]), /leaves a gap/);
  });
});
