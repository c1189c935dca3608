/**
 * Crash safety with a real kill -9: a child process appends and fsyncs in a loop and prints each
 * acknowledged index; we SIGKILL it mid-stream, reopen the store here and check that every
 * acknowledged entry is present and intact. Repeated on one directory, so each round also
 * recovers from the previous crash before writing on.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { DiskStorage } from '../../../src/raft/storage/index.js';
import { spawnManaged, killAllManaged } from '../../support/procs.js';
import { crashPayload, crashSnapshotData } from './crash-payload.js';
import { recordingLogger, tempDir } from './helpers.js';

const WRITER = fileURLToPath(new URL('./crash-writer.js', import.meta.url));
const ROUNDS = 4;

after(() => killAllManaged('SIGKILL'));

/** Runs the writer until it has acknowledged `minAcks` batches, then SIGKILLs it. */
async function runAndKill(dir: string, minAcks: number): Promise<{ index: number; term: number }> {
  const m = spawnManaged(process.execPath, [WRITER], { env: { ...process.env, RAFT_CRASH_WRITER_DIR: dir } });
  let acked = { index: 0, term: 0 };
  let count = 0;
  let pending = '';
  let stderr = '';
  m.child.stderr?.on('data', (b: Buffer) => { stderr += b.toString(); });
  const enough = new Promise<void>((resolve) => {
    m.child.stdout?.on('data', (b: Buffer) => {
      pending += b.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const [, index, term] = line.split(' ');
        acked = { index: Number(index), term: Number(term) };
        if (++count === minAcks) {
          m.signal('SIGKILL');
          resolve();
        }
      }
    });
    void m.exited.then(() => resolve());
  });
  await enough;
  const exit = await m.exited;
  assert.equal(exit.signal, 'SIGKILL', `writer exited on its own (code ${exit.code}): ${stderr}`);
  return acked;
}

test('every entry acknowledged before a kill -9 survives it, round after round', async () => {
  const { dir, remove } = tempDir('raft-crash-');
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const acked = await runAndKill(dir, 120 + 70 * round);
      const log = recordingLogger();
      const s = DiskStorage.open(dir, { logger: log, segmentBytes: 64 * 1024 });
      try {
        assert.equal(acked.term, round, 'each writer run starts a new term');
        assert.ok(s.lastIndex() >= acked.index, `round ${round}: last index ${s.lastIndex()} < acknowledged ${acked.index}`);
        assert.ok(s.initialState().commit >= acked.index, `round ${round}: commit ${s.initialState().commit} < acknowledged ${acked.index}`);
        assert.equal(s.initialState().term, round);
        const stored = s.entries(s.firstIndex(), s.lastIndex() + 1);
        assert.ok(stored !== null);
        for (const e of stored) {
          assert.deepEqual(e.data, crashPayload(e.index, e.term), `round ${round}: entry ${e.index} is damaged`);
          assert.ok(e.term >= 1 && e.term <= round);
        }
        const snap = s.snapshot();
        assert.ok(snap.index > 0, 'the writer compacted at least once');
        assert.deepEqual(snap.data, crashSnapshotData(snap.index));
        assert.ok(s.firstIndex() - 1 <= snap.index && s.term(s.firstIndex() - 1) !== null);
      } finally {
        s.close();
      }
    }
  } finally {
    remove();
  }
});
