/**
 * The driver's Ready loop (src/raft/ready-loop.ts) around the real core, with a storage whose
 * persists complete only when the test says so: the ordering rules that keep Raft safe while the
 * leader sends before its own fsync.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryStorage, RawNode, type Entry, type Message, type NodeId } from '../../src/raft/core/index.js';
import { ReadyLoop, type LoopEffects } from '../../src/raft/ready-loop.js';
import type { PersistBatch } from '../../src/raft/storage/index.js';

/**
 * MemoryStorage whose persistAsync waits for `complete()`; what it holds is what was completed.
 * A batch that only advances the commit index completes at once, as on DiskStorage (no fsync).
 */
class GatedStorage extends MemoryStorage {
  readonly batches: PersistBatch[] = [];
  private gate: (() => void) | null = null;

  persistAsync(batch: PersistBatch): Promise<void> {
    assert.equal(this.gate, null, 'one persist at a time');
    const hs = batch.hardState;
    if (!batch.snapshot && !batch.entries?.length && hs && hs.term === this.initialState().term && hs.vote === this.initialState().vote) {
      this.setHardState(hs);
      return Promise.resolve();
    }
    this.batches.push(batch);
    return new Promise<void>((resolve) => {
      this.gate = () => {
        if (batch.snapshot) this.applySnapshot(batch.snapshot);
        if (batch.entries?.length) this.append(batch.entries);
        if (batch.hardState) this.setHardState(batch.hardState);
        resolve();
      };
    });
  }

  get pending(): boolean { return this.gate !== null; }

  /** Completes the persist in flight and lets the loop run on. */
  async complete(): Promise<void> {
    const g = this.gate;
    assert.ok(g, 'no persist in flight');
    this.gate = null;
    g();
    await settle();
  }
}

const settle = () => new Promise<void>((r) => setImmediate(r));

function harness(id: NodeId) {
  const storage = new GatedStorage();
  const boot = MemoryStorage.bootstrap(['a', 'b', 'c']);
  storage.applySnapshot(boot.snapshot());
  storage.setHardState(boot.initialState());
  const raw = new RawNode({ id, storage, rng: { intBelow: () => 0 }, electionTicks: 10, heartbeatTicks: 1, preVote: false });
  const sent: Message[] = [];
  const applied: Entry[] = [];
  const fx: LoopEffects = {
    send: (m) => sent.push(m), confChanged: () => {}, restore: () => {}, softState: () => {},
    apply: (e) => applied.push(e), readState: () => {}, event: () => {}, advanced: () => {},
    fatal: (e) => { throw e; },
  };
  return { raw, storage, sent, applied, loop: new ReadyLoop(raw, storage, fx) };
}

/** Node "a" as leader of a, b, c at term 2, with its no-op committed; `sent` and `applied` cleared. */
async function leader() {
  const h = harness('a');
  h.raw.campaign();
  h.loop.kick();
  await h.storage.complete();
  h.loop.receive({ from: 'b', to: 'a', term: 2, type: 'vote-resp', reject: false });
  await settle();
  assert.equal(h.raw.basicStatus().role, 'leader');
  await h.storage.complete(); // the no-op entry
  const noop = h.raw.status().lastIndex;
  h.loop.receive(ack('b', noop));
  h.loop.receive(ack('c', noop));
  await settle();
  assert.equal(h.storage.pending, false);
  assert.equal(h.raw.basicStatus().commit, noop);
  h.sent.length = 0;
  h.applied.length = 0;
  return h;
}

const ack = (from: NodeId, index: number): Message => ({ from, to: 'a', term: 2, type: 'append-resp', index, reject: false, hintTerm: 0, hintIndex: 0 });
const data = (s: string) => new TextEncoder().encode(s);

describe('Ready loop ordering', () => {
  test('a candidate sends its vote requests only once its new term and vote are on disk', async () => {
    const h = harness('a');
    h.raw.campaign();
    h.loop.kick();
    assert.equal(h.storage.pending, true);
    assert.equal(h.sent.length, 0, 'nothing may leave before the vote for itself is durable');
    await h.storage.complete();
    assert.deepEqual(h.sent.map((m) => [m.type, m.to]), [['vote', 'b'], ['vote', 'c']]);
    assert.equal(h.storage.initialState().vote, 'a');
  });

  test('the leader sends appends while its own persist is in flight', async () => {
    const h = await leader();
    const r = h.raw.propose(data('x'));
    assert.ok(r.accepted);
    h.loop.kick();
    assert.equal(h.storage.pending, true);
    assert.deepEqual(h.sent.filter((m) => m.type === 'append').map((m) => m.to).sort(), ['b', 'c']);
    await h.storage.complete();
  });

  test('the leader does not count itself before its fsync: a follower ack waits, then commits', async () => {
    const h = await leader();
    const r = h.raw.propose(data('x'));
    assert.ok(r.accepted);
    h.loop.kick();
    // b acknowledges while a's own write is still in flight: a majority (a + b) only once a's is durable.
    h.loop.receive(ack('b', r.index));
    await settle();
    assert.ok(h.raw.basicStatus().commit < r.index, 'committed before the leader\'s own fsync');
    assert.equal(h.applied.length, 0);
    await h.storage.complete();
    assert.equal(h.raw.basicStatus().commit, r.index);
    assert.deepEqual(h.applied.map((e) => e.index), [r.index]);
  });

  test('a follower acknowledges entries only after persisting them', async () => {
    const h = harness('b');
    const entry: Entry = { index: 2, term: 2, type: 'normal', data: data('x') };
    h.loop.receive({ from: 'a', to: 'b', term: 2, type: 'append', index: 1, logTerm: 1, entries: [entry], commit: 1 });
    await settle();
    assert.equal(h.storage.pending, true);
    assert.equal(h.sent.length, 0);
    await h.storage.complete();
    assert.deepEqual(h.sent.map((m) => [m.type, m.to, m.type === 'append-resp' ? m.index : null]), [['append-resp', 'a', 2]]);
  });

  test('proposals made while a persist is in flight share the next one (one fsync)', async () => {
    const h = await leader();
    assert.ok(h.raw.propose(data('p1')).accepted);
    h.loop.kick();
    for (const s of ['p2', 'p3', 'p4']) { assert.ok(h.raw.propose(data(s)).accepted); h.loop.kick(); }
    const before = h.storage.batches.length;
    await h.storage.complete();
    assert.equal(h.storage.batches.length, before + 1);
    assert.deepEqual(h.storage.batches.at(-1)!.entries!.map((e) => new TextDecoder().decode(e.data)), ['p2', 'p3', 'p4']);
    await h.storage.complete();
  });

  test('stop() waits for the persist in flight and takes no further Ready', async () => {
    const h = await leader();
    assert.ok(h.raw.propose(data('x')).accepted);
    h.loop.kick();
    let stopped = false;
    const s = h.loop.stop().then(() => { stopped = true; });
    await settle();
    assert.equal(stopped, false);
    await h.storage.complete();
    await s;
    assert.ok(h.raw.propose(data('y')).accepted);
    h.loop.kick();
    assert.equal(h.storage.pending, false);
  });
});
