/**
 * DiskStorage under the real core: a single-voter node elects itself, commits proposals
 * through Readies persisted here, compacts, and after a "restart" (close, reopen, new RawNode)
 * it has the same term, vote, commit and log, and keeps going.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { RawNode, bootstrapState, type Entry, type Ready } from '../../../src/raft/core/index.js';
import { DiskStorage, type PersistBatch, type StorageLogger } from '../../../src/raft/storage/index.js';
import { recordingLogger, tempDir } from './helpers.js';

// Compile-time contracts: a pino logger is a StorageLogger, and a Ready is a PersistBatch.
const _pinoFits: StorageLogger = pino({ enabled: false });
const _readyFits = (rd: Ready): PersistBatch => rd;
void _pinoFits; void _readyFits;

const rng = { intBelow: (n: number) => n - 1 };
const text = (e: Entry) => new TextDecoder().decode(e.data);

/** Drives `node` until it has no Ready, persisting each; returns the applied normal entries' data. */
function drain(node: RawNode, store: DiskStorage): string[] {
  const applied: string[] = [];
  while (node.hasReady()) {
    const rd = node.ready();
    store.persist(rd);
    assert.equal(rd.messages.length, 0, 'a single voter sends nothing');
    for (const e of rd.committed) if (e.type === 'normal') applied.push(text(e));
    node.advance(rd);
  }
  return applied;
}

function elect(node: RawNode, store: DiskStorage): void {
  node.campaign();
  drain(node, store);
  assert.equal(node.basicStatus().role, 'leader');
}

test('a node run on DiskStorage restarts with its term, vote, commit and log', () => {
  const { dir, remove } = tempDir();
  let store = DiskStorage.open(dir, { logger: recordingLogger() });
  try {
    store.persist(bootstrapState(['n1']));
    let node = new RawNode({ id: 'n1', storage: store, rng, electionTicks: 10, heartbeatTicks: 1 });
    elect(node, store);
    const applied: string[] = [];
    for (let i = 0; i < 30; i++) {
      assert.equal(node.propose(new TextEncoder().encode(`op${i}`)).accepted, true);
      applied.push(...drain(node, store));
    }
    assert.deepEqual(applied, Array.from({ length: 30 }, (_, i) => `op${i}`));
    const status = node.status();
    store.compact(status.commit - 5, { index: status.commit, term: status.term, confState: node.confStateAt(status.commit), data: new TextEncoder().encode('kv') });

    store.close();
    store = DiskStorage.open(dir, { logger: recordingLogger() });
    node = new RawNode({ id: 'n1', storage: store, rng, electionTicks: 10, heartbeatTicks: 1 });
    const back = node.status();
    assert.deepEqual([back.term, back.vote, back.commit, back.lastIndex], [status.term, status.vote, status.commit, status.lastIndex]);
    assert.deepEqual(back.confState, { voters: ['n1'], learners: [] });
    elect(node, store);
    assert.equal(node.basicStatus().term, status.term + 1);
    node.propose(new TextEncoder().encode('after-restart'));
    assert.deepEqual(drain(node, store), ['after-restart']);
  } finally {
    store.close();
    remove();
  }
});
