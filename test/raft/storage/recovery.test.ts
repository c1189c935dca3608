/**
 * Recovery on open: a torn or corrupt tail is cut at the last good record and logged; damage
 * that a crash cannot explain refuses to open with an error naming the file and offset.
 */
import assert from 'node:assert/strict';
import { appendFileSync, readFileSync, readdirSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Snapshot } from '../../../src/raft/core/types.js';
import { segmentName } from '../../../src/raft/storage/files.js';
import { DiskStorage, StorageCorruptionError } from '../../../src/raft/storage/index.js';
import { HEADER_BYTES, scanRecords, type RawRecord } from '../../../src/raft/storage/record.js';
import { describe, ents, flipBit, recordingLogger, tempDir } from './helpers.js';

const snapAt = (index: number, term: number): Snapshot => ({ index, term, confState: { voters: ['a'], learners: [] }, data: new TextEncoder().encode(`img${index}`) });

/**
 * A closed store with entries 1..10 of term 1, one persist (batch: entry + hard state) each.
 * Without preallocation unless asked: each file then ends at its last batch, as these tests cut it.
 */
function tenBatches(opts: { segmentBytes?: number; preallocateBytes?: number } = {}): { dir: string; remove: () => void } {
  const t = tempDir();
  const s = DiskStorage.open(t.dir, { preallocateBytes: 0, ...opts });
  for (let i = 1; i <= 10; i++) s.persist({ entries: ents(i, i, 1), hardState: { term: 1, vote: 'a', commit: i } });
  s.close();
  return t;
}

const segments = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('wal-')).sort().map((f) => join(dir, f));
const lastSegment = (dir: string) => segments(dir).at(-1) ?? assert.fail('no segment');
const recordsOf = (path: string): readonly RawRecord[] => scanRecords(readFileSync(path)).records;

function mutate(path: string, edit: (b: Buffer) => void): void {
  const b = readFileSync(path);
  edit(b);
  writeFileSync(path, b);
}

function reopen(dir: string) {
  const logger = recordingLogger();
  const s = DiskStorage.open(dir, { logger });
  return { s, logger, entries: describe(s.entries(s.firstIndex(), s.lastIndex() + 1)) };
}

function expectRefusal(dir: string, file: string, offset: number): void {
  const size = statSync(file).size;
  assert.throws(
    () => DiskStorage.open(dir, { logger: recordingLogger() }),
    (e: unknown) => e instanceof StorageCorruptionError && e.file === file && e.offset === offset && e.message.includes(`${file} at offset ${offset}`),
  );
  assert.equal(statSync(file).size, size, 'a refused open changes nothing');
}

for (const cutBack of [1, 5, HEADER_BYTES + 2, 19]) {
  test(`a tail torn ${cutBack} bytes short of the end is cut at the last good record; the rest is intact`, () => {
    const { dir, remove } = tenBatches();
    try {
      const file = lastSegment(dir);
      const full = statSync(file).size;
      const lastRec = recordsOf(file).at(-1)!;
      truncateSync(file, full - cutBack);
      const { s, logger, entries } = reopen(dir);
      try {
        // The hard state record is the batch's last: entry 10 may survive while its hard state is cut.
        const kept = cutBack < lastRec.payload.length + HEADER_BYTES ? 10 : 9;
        assert.deepEqual(entries, describe(ents(1, kept, 1)));
        assert.equal(s.initialState().commit, 9, 'the cut hard state reverts to the previous one');
        assert.equal(statSync(file).size, lastRec.offset, 'the file is truncated at the damaged record');
        const warn = logger.lines.find((l) => l.level === 'warn');
        assert.equal(warn?.fields.file, file);
        assert.equal(warn?.fields.offset, lastRec.offset);
        s.persist({ entries: ents(11, 11, 1), hardState: { term: 1, vote: 'a', commit: 11 } });
      } finally {
        s.close();
      }
      const again = reopen(dir);
      again.s.close();
      assert.equal(again.logger.lines.length, 0, 'nothing left to repair');
      assert.deepEqual(again.entries?.at(-1), '11/1:e11t1');
    } finally {
      remove();
    }
  });
}

test('a flipped byte in the last record (the hard state) is cut; the entries stay', () => {
  const { dir, remove } = tenBatches();
  try {
    const file = lastSegment(dir);
    mutate(file, (b) => flipBit(b, recordsOf(file).at(-1)!.offset + HEADER_BYTES + 2));
    const { s, logger, entries } = reopen(dir);
    s.close();
    assert.deepEqual(entries, describe(ents(1, 10, 1)));
    assert.equal(s.initialState().commit, 9);
    assert.match(logger.lines[0]?.fields.reason as string, /checksum mismatch/);
  } finally {
    remove();
  }
});

test('a flipped byte in the last batch\'s entry cuts that whole batch', () => {
  const { dir, remove } = tenBatches();
  try {
    const file = lastSegment(dir);
    mutate(file, (b) => flipBit(b, recordsOf(file).at(-2)!.offset + HEADER_BYTES + 20));
    const { s, entries } = reopen(dir);
    s.close();
    assert.deepEqual(entries, describe(ents(1, 9, 1)));
  } finally {
    remove();
  }
});

test('a flipped byte in a middle record refuses to open, naming the file and offset', () => {
  const { dir, remove } = tenBatches();
  try {
    const file = lastSegment(dir);
    const victim = recordsOf(file)[8]!; // an entry in the middle of the segment
    mutate(file, (b) => flipBit(b, victim.offset + HEADER_BYTES + 18));
    expectRefusal(dir, file, victim.offset);
  } finally {
    remove();
  }
});

test('a damaged length in a middle record refuses to open rather than cutting valid records', () => {
  const { dir, remove } = tenBatches();
  try {
    const file = lastSegment(dir);
    const victim = recordsOf(file)[6]!;
    mutate(file, (b) => b.writeUInt32LE(10_000, victim.offset)); // now runs past the end of the file
    expectRefusal(dir, file, victim.offset);
  } finally {
    remove();
  }
});

test('a zero-filled tail (preallocated space) is kept: nothing is logged or cut, and appends go into it', () => {
  const { dir, remove } = tenBatches({ preallocateBytes: 4096 });
  try {
    const file = lastSegment(dir);
    const size = statSync(file).size;
    assert.equal(size % 4096, 0, 'the segment was preallocated');
    const first = reopen(dir);
    assert.deepEqual(first.entries, describe(ents(1, 10, 1)));
    assert.deepEqual(first.logger.lines, []);
    assert.equal(statSync(file).size, size);
    first.s.persist({ entries: ents(11, 11, 1), hardState: { term: 1, vote: 'a', commit: 11 } });
    first.s.close();
    assert.equal(statSync(file).size, size, 'the append went into the preallocated space');
    const again = reopen(dir);
    again.s.close();
    assert.deepEqual(again.entries, describe(ents(1, 11, 1)));
    assert.deepEqual(again.logger.lines, []);
  } finally {
    remove();
  }
});

test('a torn batch inside preallocated space is cut at its first record, with the zeros after it', () => {
  const { dir, remove } = tenBatches({ preallocateBytes: 4096 });
  try {
    const file = lastSegment(dir);
    const last = recordsOf(file).at(-2)!; // the last batch: entry 10, then its hard state
    // As if only the middle of the batch reached the disk: its start is zeros, some later byte is not.
    mutate(file, (b) => { b.fill(0, last.offset, last.offset + HEADER_BYTES); });
    const { s, logger, entries } = reopen(dir);
    s.close();
    assert.deepEqual(entries, describe(ents(1, 9, 1)));
    assert.equal(logger.lines[0]?.fields.offset, last.offset);
    assert.equal(statSync(file).size, last.offset);
  } finally {
    remove();
  }
});

test('damage at the end of a segment that is not the last refuses to open', () => {
  const { dir, remove } = tenBatches({ segmentBytes: 150 });
  try {
    const first = segments(dir)[0]!;
    assert.ok(segments(dir).length > 2);
    const lastRecord = recordsOf(first).at(-1)!;
    truncateSync(first, statSync(first).size - 3);
    expectRefusal(dir, first, lastRecord.offset);
  } finally {
    remove();
  }
});

test('a missing segment in the middle refuses to open', () => {
  const { dir, remove } = tenBatches({ segmentBytes: 150 });
  try {
    const missing = segments(dir)[1]!;
    unlinkSync(missing);
    assert.throws(() => DiskStorage.open(dir, { logger: recordingLogger() }), (e: unknown) => e instanceof StorageCorruptionError && e.file === missing && /missing/.test(e.message));
  } finally {
    remove();
  }
});

test('a corrupt snapshot file refuses to open', () => {
  const { dir, remove } = tenBatches();
  try {
    const s = DiskStorage.open(dir);
    s.compact(5, snapAt(5, 1));
    s.close();
    const file = join(dir, 'snapshot.bin');
    mutate(file, (b) => flipBit(b, b.length - 2));
    assert.throws(() => DiskStorage.open(dir, { logger: recordingLogger() }), (e: unknown) => e instanceof StorageCorruptionError && e.file === file && /checksum/.test(e.message));
  } finally {
    remove();
  }
});

test('leftovers of an interrupted compaction and of an atomic write are removed and logged', () => {
  const { dir, remove } = tenBatches({ segmentBytes: 150 });
  try {
    const s = DiskStorage.open(dir, { segmentBytes: 150 });
    s.compact(8, snapAt(8, 1));
    const kept = s.segmentSeqs();
    s.close();
    // As if the crash came after the snapshot file was renamed but before old segments went.
    writeFileSync(join(dir, segmentName(1)), 'stale');
    writeFileSync(join(dir, 'snapshot.bin.tmp'), 'half-written');
    const { s: r, logger, entries } = reopen(dir);
    r.close();
    assert.deepEqual(entries, describe(ents(9, 10, 1)));
    assert.deepEqual(r.segmentSeqs(), kept);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp') || f === segmentName(1)), []);
    assert.deepEqual(logger.lines.map((l) => l.level), ['info', 'info']);
  } finally {
    remove();
  }
});

test('damage to a segment\'s header batch refuses to open: segments are created whole, so it is no torn write', () => {
  const t = tempDir();
  try {
    const s = DiskStorage.open(t.dir, { segmentBytes: 1 }); // rotate after every persist
    s.persist({ entries: ents(1, 1, 5), hardState: { term: 5, vote: 'a', commit: 0 } });
    s.close();
    const file = lastSegment(t.dir);
    const records = recordsOf(file);
    assert.equal(records.length, 2, 'the newest segment holds only its header batch');
    mutate(file, (b) => flipBit(b, records[1]!.offset + HEADER_BYTES + 1));
    expectRefusal(t.dir, file, records[1]!.offset);
  } finally {
    t.remove();
  }
});
