import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvariantError } from '../../src/raft/core/errors.js';
import { Raft } from '../../src/raft/core/raft.js';
import { MemoryStorage } from '../../src/raft/core/storage.js';
import { Prng } from './sim/prng.js';
import { runSeed } from './sim/random-run.js';
import { cluster, elect, put, role, term } from './sim/scenarios.js';

describe('elections', () => {
  test('pre-vote: an isolated follower does not inflate its term or depose the leader on return', () => {
    const c = cluster(3);
    elect(c, 'n1');
    const t0 = term(c, 'n1');
    c.net.isolate('n3');
    c.ticks(100); // many election timeouts
    assert.equal(term(c, 'n3'), t0, 'pre-vote must not bump the term');
    assert.equal(role(c, 'n3'), 'pre-candidate');
    c.net.heal();
    c.ticks(20);
    assert.equal(c.leader()?.id, 'n1');
    assert.equal(term(c, 'n1'), t0);
    assert.equal(role(c, 'n3'), 'follower');
  });

  test('without pre-vote the same isolation disrupts the leader (what pre-vote prevents)', () => {
    const c = cluster(3, { node: { preVote: false, checkQuorum: false } });
    elect(c, 'n1');
    const t0 = term(c, 'n1');
    c.net.isolate('n3');
    c.ticks(100);
    assert.ok(term(c, 'n3') > t0 + 2);
    c.net.heal();
    c.ticks(40);
    assert.ok(term(c, 'n1') > t0, 'the returning node forced a new term');
  });

  test('check-quorum: a leader cut off from the majority steps down within an election timeout', () => {
    const c = cluster(3);
    elect(c, 'n1');
    c.net.isolate('n1');
    const took = c.tickUntil(() => role(c, 'n1') !== 'leader', 25);
    assert.notEqual(took, null);
    assert.ok(took! <= 2 * 10, `stepped down after ${took} ticks`);
    const ev = c.events.find((e) => e.node === 'n1' && e.event.kind === 'stepped-down');
    assert.match(ev && ev.event.kind === 'stepped-down' ? ev.event.reason : '', /check-quorum/);
  });

  test('leader link lost: the followers of a dead leader elect a new one within a few ticks, not an election timeout', () => {
    const c = cluster(3);
    elect(c, 'n1');
    c.ticks(3); // the followers hear the new leader
    const t0 = term(c, 'n1');
    c.crash('n1');
    for (const id of ['n2', 'n3']) c.node(id).raw!.reportDisconnected('n1');
    const took = c.tickUntil(() => c.leader() !== null && c.leader()!.id !== 'n1', 30);
    assert.notEqual(took, null, 'no new leader');
    // election timeout is 10 ticks (randomized 10..19): without the report this takes >= 10.
    assert.ok(took! <= 6, `new leader after ${took} ticks`);
    assert.ok(term(c, c.leader()!.id) > t0);
  });

  test('ticksUntilElection: a follower counts down tick by tick and campaigns exactly when it says; null for the leader', () => {
    const c = cluster(3);
    elect(c, 'n1');
    c.ticks(3);
    assert.equal(c.node('n1').raw!.ticksUntilElection(), null, 'a leader has no election timer');
    const n2 = c.node('n2').raw!;
    const before = n2.ticksUntilElection()!;
    n2.tick();
    n2.tick();
    assert.equal(n2.ticksUntilElection(), before - 2, 'each tick brings the election one closer');
    // Silence the leader: n2's election must start exactly when the reported count runs out.
    c.net.isolate('n1');
    const wait = n2.ticksUntilElection()!;
    for (let i = 0; i < wait - 1; i++) n2.tick();
    assert.equal(n2.basicStatus().role, 'follower', `still a follower one tick before the reported ${wait}`);
    n2.tick();
    assert.notEqual(n2.basicStatus().role, 'follower', `campaigned after exactly ${wait} ticks`);
  });

  test('leader link lost by one follower only: it cannot depose a leader the others still hear', () => {
    const c = cluster(3);
    elect(c, 'n1');
    c.ticks(3);
    const t0 = term(c, 'n1');
    c.node('n3').raw!.reportDisconnected('n1');
    c.ticks(40);
    assert.equal(c.leader()?.id, 'n1');
    assert.equal(term(c, 'n1'), t0, 'no new term');
    assert.equal(role(c, 'n3'), 'follower', 'the next heartbeat brought n3 back');
  });

  test('leader lease: a follower that hears the leader ignores vote requests', () => {
    const c = cluster(3, { node: { preVote: false } });
    elect(c, 'n1');
    const t0 = term(c, 'n2');
    let votesGranted = 0;
    c.net.filter = (m) => {
      if (m.type === 'vote-resp' && !m.reject) votesGranted++;
      return false;
    };
    c.node('n3').raw!.campaign(); // a real election at term t0 + 1
    c.drain();
    c.ticks(2);
    assert.equal(votesGranted, 0);
    assert.equal(term(c, 'n2'), t0, 'n2 did not even adopt the higher term');
    assert.notEqual(role(c, 'n3'), 'leader');
  });

  test('the randomized election timeout lies in [T, 2T) and comes from the injected Rng', () => {
    const seen = new Set<number>();
    for (let seed = 0; seed < 200; seed++) {
      const r = new Raft({ id: 'a', storage: MemoryStorage.bootstrap(['a', 'b', 'c']), rng: new Prng(seed), electionTicks: 10, heartbeatTicks: 1 });
      seen.add(r.randomizedTimeout);
    }
    assert.ok([...seen].every((t) => t >= 10 && t < 20));
    assert.ok(seen.size >= 8, 'timeouts should spread over the range');
  });

  test('a (pre-)vote from a server missing from our configuration gets the removal notice and still an answer by the usual rules', () => {
    // Our configuration may be the stale one: the candidate could have been added after it.
    const r = new Raft({ id: 'a', storage: MemoryStorage.bootstrap(['a', 'b', 'c']), rng: new Prng(1), electionTicks: 10, heartbeatTicks: 1 });
    r.step({ from: 'd', to: 'a', term: 1, type: 'pre-vote', lastIndex: 50, lastTerm: 1, transfer: false });
    assert.deepEqual(r.msgs.map((m) => [m.type, 'reject' in m ? m.reject : null]), [['removed', null], ['pre-vote-resp', false]]);
    r.msgs = [];
    r.step({ from: 'd', to: 'a', term: 1, type: 'vote', lastIndex: 0, lastTerm: 0, transfer: false });
    assert.deepEqual(r.msgs.map((m) => [m.type, 'reject' in m ? m.reject : null]), [['removed', null], ['vote-resp', true]], 'a candidate with an older log is refused as usual');
  });

  test('impossible role transitions throw InvariantError', () => {
    const r = new Raft({ id: 'a', storage: MemoryStorage.bootstrap(['a', 'b', 'c']), rng: new Prng(1), electionTicks: 10, heartbeatTicks: 1 });
    assert.throws(() => r.becomeLeader(), InvariantError);
    r.becomeCandidate();
    r.becomeLeader();
    assert.throws(() => r.becomeCandidate(), /invalid transition \[leader -> candidate\]/);
    assert.throws(() => r.becomePreCandidate(), /invalid transition \[leader -> pre-candidate\]/);
  });

  test('a single-voter cluster elects itself and commits alone', () => {
    const c = cluster(1);
    c.ticks(25);
    assert.equal(c.leader()?.id, 'n1');
    const idx = put(c, 'k', 'v');
    c.ticks(1);
    assert.ok(c.node('n1').applied >= idx);
  });
});

describe('liveness after faults heal', () => {
  test('after random partitions end, a leader is elected and a proposal commits within a bound', () => {
    for (let seed = 1; seed <= 30; seed++) {
      const c = cluster(5, { seed, faults: { drop: 0.1, duplicate: 0.05, maxDelay: 3 } });
      for (let t = 0; t < 150; t++) {
        if (t % 25 === 0) {
          const ids = [...c.nodes.keys()];
          c.net.partition([ids.filter(() => c.rng.chance(0.5))]);
        }
        c.tick();
      }
      c.net.heal();
      c.net.faults = { drop: 0, duplicate: 0, maxDelay: 1 };
      // Bound: an election timeout to notice, up to 2T randomized, a few rounds for split votes.
      const took = c.tickUntil(() => c.leader() !== null, 100);
      assert.notEqual(took, null, `seed ${seed}: no leader within 100 ticks of healing`);
      let idx = 0;
      const committed = c.tickUntil(() => {
        const leader = c.leader();
        if (leader === null) return false;
        if (idx === 0) idx = put(c, 'k', `v${seed}`);
        return [...c.nodes.values()].every((n) => n.applied >= idx);
      }, 40);
      assert.notEqual(committed, null, `seed ${seed}: proposal not applied everywhere within 40 ticks`);
    }
  });

  test('the random-run liveness phase holds for a sample of seeds with crashes and membership changes', () => {
    for (let seed = 90_001; seed <= 90_020; seed++) assert.ok(runSeed(seed).ok, `seed ${seed}`);
  });
});
