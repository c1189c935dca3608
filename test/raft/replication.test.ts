import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message } from '../../src/raft/core/types.js';
import { Raft } from '../../src/raft/core/raft.js';
import { MemoryStorage } from '../../src/raft/core/storage.js';
import { Prng } from './sim/prng.js';
import { cluster, commit, elect, put } from './sim/scenarios.js';

describe('log replication', () => {
  test('fast back-off: a follower with a long divergent tail is repaired in a few round trips', () => {
    const c = cluster(3, { snapshotEvery: 10_000 });
    elect(c, 'n1');
    c.ticks(3);
    // n1 keeps accepting proposals while cut off: 60 entries of its term that never commit.
    c.net.isolate('n1');
    for (let i = 0; i < 60; i++) put(c, 'k', `lost${i}`);
    assert.notEqual(c.tickUntil(() => c.leader() !== null && c.leader()!.id !== 'n1', 60), null);
    // The majority commits 70 entries of a later term over the same indexes and beyond.
    const first = c.leader()!.id;
    const other = first === 'n2' ? 'n3' : 'n2';
    let last = 0;
    for (let i = 0; i < 70; i++) last = put(c, 'k', `kept${i}`);
    assert.notEqual(c.tickUntil(() => commit(c, other) >= last, 20), null);
    // A new leader that knows nothing of n1's log starts probing at its own last index.
    c.crash(first);
    c.net.heal();
    let rejections = 0;
    c.net.filter = (m: Message) => {
      if (m.type === 'append-resp' && m.from === 'n1' && m.reject) rejections++;
      return false;
    };
    elect(c, other);
    assert.notEqual(c.tickUntil(() => commit(c, 'n1') === commit(c, other) && commit(c, 'n1') > last, 40), null);
    assert.equal(c.node('n1').kv.get('k'), 'kept69');
    // Probing one entry at a time would take ~70 rejections; the hints need one per term.
    assert.ok(rejections >= 1 && rejections <= 3, `${rejections} rejections`);
  });

  test('snapshot catch-up: a follower whose next entries were compacted receives a snapshot, then the log', () => {
    const c = cluster(3, { snapshotEvery: 5 });
    elect(c, 'n1');
    c.crash('n3');
    for (let i = 0; i < 30; i++) {
      put(c, 'k', `v${i}`);
      c.tick();
    }
    assert.ok(c.node('n1').disk.firstIndex() > 10, 'leader compacted its log');
    c.restart('n3');
    c.ticks(15);
    assert.ok(c.trail.some((l) => l.includes('n3 installed snapshot')));
    assert.equal(c.node('n3').applied, c.node('n1').applied);
    assert.equal(c.node('n3').kv.get('k'), 'v29');
  });

  test('a leader commits an entry from an earlier term only together with one of its own (§5.4.2)', () => {
    const storage = MemoryStorage.bootstrap(['a', 'b', 'c']);
    const data = new TextEncoder().encode('x');
    storage.append([2, 3, 4, 5].map((index) => ({ term: 2, index, type: 'normal' as const, data })));
    storage.setHardState({ term: 2, vote: null, commit: 1 });
    const r = new Raft({ id: 'a', storage, rng: new Prng(1), electionTicks: 10, heartbeatTicks: 1 });
    r.becomeCandidate();
    r.becomeLeader(); // term 3, no-op appended at index 6
    assert.equal(r.log.lastIndex(), 6);
    r.progress.get('b')!.match = 5; // a majority holds index 5 (term 2)...
    assert.equal(r.maybeCommit(), false, '...but counting replicas of an older term commits nothing');
    assert.equal(r.log.committed, 1);
    r.progress.get('b')!.match = 6;
    assert.equal(r.maybeCommit(), true);
    assert.equal(r.log.committed, 6, 'the no-op of the current term commits, and every entry before it');
  });
});

describe('commit rules (QLUSTER quorum-replication / replication-factor)', () => {
  test('majority: commits with one of three voters down', () => {
    const c = cluster(3);
    elect(c, 'n1');
    c.crash('n3');
    const idx = put(c, 'k', 'v');
    assert.notEqual(c.tickUntil(() => commit(c, 'n1') >= idx, 10), null);
  });

  test('every voter (quorum-replication: false): waits for the missing voter', () => {
    const c = cluster(3, { node: { commitRule: { kind: 'all' } } });
    elect(c, 'n1');
    c.ticks(3);
    c.crash('n3');
    const idx = put(c, 'k', 'v');
    c.ticks(5);
    assert.ok(commit(c, 'n1') < idx, 'must not commit without n3');
    c.restart('n3');
    c.ticks(8);
    assert.ok(commit(c, 'n1') >= idx);
  });

  test('replication-factor 4 of 5: commits with four voters, not with three', () => {
    const c = cluster(5, { node: { commitRule: { kind: 'factor', factor: 4 } } });
    elect(c, 'n1');
    c.ticks(3);
    c.crash('n5');
    const a = put(c, 'k', 'a');
    assert.notEqual(c.tickUntil(() => commit(c, 'n1') >= a, 10), null);
    c.crash('n4');
    const b = put(c, 'k', 'b');
    c.ticks(6);
    assert.ok(commit(c, 'n1') < b, 'three copies are a majority but below the factor');
  });
});

describe('read index', () => {
  test('a leader answers a read after a heartbeat round; a follower forwards and gets the same point', () => {
    const c = cluster(3);
    elect(c, 'n1');
    const idx = put(c, 'k', 'v');
    assert.notEqual(c.tickUntil(() => commit(c, 'n1') >= idx, 10), null);
    const states: Array<[string, string, number]> = [];
    c.clients = { applied: () => {}, readState: (n, rs) => states.push([n.id, rs.ctx, rs.index]) };
    c.node('n1').raw!.readIndex('a');
    c.node('n2').raw!.readIndex('b');
    c.drain();
    assert.equal(states.length, 0, 'no answer before a quorum confirmed leadership');
    c.ticks(4);
    assert.deepEqual(states.map(([n, ctx]) => `${n}:${ctx}`).sort(), ['n1:a', 'n2:b']);
    assert.ok(states.every(([, , index]) => index >= idx));
  });

  test('a read-index round stands in for the next heartbeat: a peer gets one only after an interval with nothing from the leader', () => {
    const c = cluster(3, { node: { heartbeatTicks: 4 } });
    elect(c, 'n1');
    c.ticks(8);
    const sent = new Map<string, number>();
    c.net.filter = (m: Message) => {
      if (m.type === 'heartbeat' && m.from === 'n1') sent.set(m.to, (sent.get(m.to) ?? 0) + 1);
      return false;
    };
    c.ticks(16);
    assert.deepEqual([sent.get('n2'), sent.get('n3')], [4, 4], 'idle: one heartbeat per peer every 4 ticks');
    sent.clear();
    let answered = 0;
    c.clients = { applied: () => {}, readState: () => void answered++ };
    for (let i = 0; i < 8; i++) {
      c.node('n1').raw!.readIndex(`r${i}`);
      c.ticks(2);
    }
    c.ticks(1);
    assert.equal(answered, 8, 'every read was answered');
    assert.deepEqual([sent.get('n2'), sent.get('n3')], [8, 8], 'one heartbeat per read round and no periodic one on top');
    sent.clear();
    c.ticks(16);
    assert.deepEqual([sent.get('n2'), sent.get('n3')], [4, 4], 'periodic heartbeats resume once the reads stop');
  });

  test('a lazy read sends no heartbeat round of its own: the next periodic heartbeat confirms it', () => {
    const c = cluster(3, { node: { heartbeatTicks: 6 } });
    elect(c, 'n1');
    c.ticks(12);
    let beats = 0;
    c.net.filter = (m: Message) => {
      if (m.type === 'heartbeat' && m.from === 'n1') beats++;
      return false;
    };
    const answered: string[] = [];
    c.clients = { applied: () => {}, readState: (_n, rs) => void answered.push(rs.ctx) };
    // Right after a periodic heartbeat, so the next one is a whole interval away.
    assert.notEqual(c.tickUntil(() => beats > 0, 7), null);
    c.drain();
    beats = 0;
    c.node('n1').raw!.readIndex('lazy', { lazy: true });
    c.drain();
    assert.equal(beats, 0, 'no heartbeat went out for the lazy read');
    c.ticks(2);
    assert.deepEqual(answered, [], 'not answered before a heartbeat round confirmed leadership');
    assert.notEqual(c.tickUntil(() => answered.length === 1, 8), null, 'answered by the periodic heartbeats of the next interval');
    const before = beats;
    c.node('n1').raw!.readIndex('eager');
    c.drain();
    assert.equal(beats, before + 2, 'an ordinary read still starts its own round at once');
  });

  test('appends confirm no read: under a steady stream of appends a lazy read is still answered within about an interval', () => {
    const c = cluster(3, { node: { heartbeatTicks: 4 } });
    elect(c, 'n1');
    c.ticks(8);
    const answered: string[] = [];
    c.clients = { applied: () => {}, readState: (_n, rs) => void answered.push(rs.ctx) };
    c.node('n1').raw!.readIndex('lazy', { lazy: true });
    let ticks = 0;
    // A write every tick: each follower hears from the leader every tick, so none is due a heartbeat.
    while (answered.length === 0 && ticks < 40) {
      put(c, 'k', `v${ticks}`);
      c.tick();
      ticks++;
    }
    assert.deepEqual(answered, ['lazy']);
    assert.ok(ticks <= 7, `answered after ${ticks} ticks`);
  });

  test('a write while a lazy read waits has it confirmed at once, not a heartbeat interval later', () => {
    const c = cluster(3, { node: { heartbeatTicks: 20, electionTicks: 60 } });
    elect(c, 'n1');
    c.ticks(25);
    const answered: string[] = [];
    c.clients = { applied: () => {}, readState: (_n, rs) => void answered.push(rs.ctx) };
    c.node('n1').raw!.readIndex('lazy', { lazy: true });
    c.ticks(2);
    assert.deepEqual(answered, [], 'still waiting for the periodic heartbeat');
    put(c, 'k', 'v');
    assert.notEqual(c.tickUntil(() => answered.length === 1, 4), null, 'answered within a round trip of the write');
  });

  test('a leader cut off from the majority never answers a read', () => {
    const c = cluster(3);
    elect(c, 'n1');
    c.ticks(3);
    let answered = false;
    c.clients = { applied: () => {}, readState: () => (answered = true) };
    c.net.isolate('n1');
    c.node('n1').raw!.readIndex('stale?');
    c.ticks(30);
    assert.equal(answered, false);
  });
});
