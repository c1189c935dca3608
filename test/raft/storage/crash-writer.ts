/**
 * Child process of crash.test.ts (not a test itself: it does nothing unless
 * RAFT_CRASH_WRITER_DIR is set). Opens the store, starts a new term, then persists batches of
 * 1-3 entries plus a hard state in a loop, compacting now and then, with small segments so
 * rotation and segment deletion happen often. After each persist returns it prints
 * `ack <lastIndex> <term>` with a synchronous write, so a printed ack always means "durable".
 * The parent SIGKILLs it at an arbitrary moment.
 */
import { writeSync } from 'node:fs';
import { DiskStorage } from '../../../src/raft/storage/index.js';
import type { Entry } from '../../../src/raft/core/types.js';
import { crashPayload, crashSnapshotData } from './crash-payload.js';

/** Stop on our own if the test that started us is gone (it would have killed us) or hangs. */
function orphaned(parent: number, startedAt: number): boolean {
  return process.ppid !== parent || Date.now() - startedAt > 60_000;
}

function main(dir: string): void {
  const parent = process.ppid;
  const startedAt = Date.now();
  const store = DiskStorage.open(dir, { segmentBytes: 64 * 1024 });
  const term = store.initialState().term + 1;
  store.persist({ hardState: { ...store.initialState(), term, vote: 'n1' } });
  let next = store.lastIndex() + 1;
  for (let batch = 0; !orphaned(parent, startedAt); batch++) {
    const entries: Entry[] = [];
    for (let k = 0; k <= batch % 3; k++, next++) entries.push({ index: next, term, type: 'normal', data: crashPayload(next, term) });
    const last = next - 1;
    store.persist({ entries, hardState: { term, vote: 'n1', commit: last } });
    writeSync(1, `ack ${last} ${term}\n`);
    if (batch % 40 === 39) {
      const at = last - 5;
      store.compact(at - 10, { index: at, term: store.term(at) ?? 0, confState: { voters: ['n1'], learners: [] }, data: crashSnapshotData(at) });
    }
  }
  store.close();
}

const dir = process.env.RAFT_CRASH_WRITER_DIR;
if (dir !== undefined) main(dir);
