import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cluster, commit, elect, put, role, voters } from './sim/scenarios.js';

describe('membership changes', () => {
  test('a new server joins as a learner, gets a snapshot and the log, and the leader promotes it', () => {
    const c = cluster(3, { snapshotEvery: 5 });
    elect(c, 'n1');
    for (let i = 0; i < 12; i++) put(c, 'k', `v${i}`);
    c.ticks(5);
    const id = c.spawn();
    const res = c.proposeConfChange('n1', { kind: 'add-learner', node: id });
    assert.ok(res.accepted);
    c.drain();
    assert.deepEqual(c.node('n1').raw!.status().confState.learners, [id], 'a learner as soon as appended');
    assert.notEqual(c.tickUntil(() => voters(c, 'n1').includes(id), 30), null, 'promoted');
    assert.ok(c.trail.some((l) => l.includes(`${id} installed snapshot`)));
    assert.ok(c.events.some((e) => e.event.kind === 'learner-promotion-proposed' && e.event.node === id));
    assert.equal(c.node(id).kv.get('k'), 'v11');
    // It now counts: with two of the original voters down, n1 and the newcomer are not a majority of 4...
    c.crash('n2');
    c.crash('n3');
    const idx = put(c, 'k', 'after');
    c.ticks(5);
    assert.ok(commit(c, 'n1') < idx);
    // ...but with one back they are.
    c.restart('n2');
    assert.notEqual(c.tickUntil(() => commit(c, 'n1') >= idx, 20), null);
  });

  test('a learner is not promoted before it has caught up', () => {
    const c = cluster(3, { snapshotEvery: 10_000 });
    elect(c, 'n1');
    const id = c.spawn();
    c.crash(id); // never answers
    assert.ok(c.proposeConfChange('n1', { kind: 'add-learner', node: id }).accepted);
    c.ticks(30);
    assert.ok(!voters(c, 'n1').includes(id));
    assert.ok(c.node('n1').raw!.status().confState.learners.includes(id));
  });

  test('only one change at a time: a second waits until the first commits', () => {
    const c = cluster(3);
    elect(c, 'n1');
    c.crash('n2');
    c.crash('n3');
    assert.ok(c.proposeConfChange('n1', { kind: 'add-learner', node: 'x' }).accepted);
    const second = c.proposeConfChange('n1', { kind: 'add-learner', node: 'y' });
    assert.equal(second.accepted, false);
    assert.equal(second.accepted ? '' : second.reason, 'conf-change-pending');
    c.restart('n2');
    assert.notEqual(c.tickUntil(() => c.proposeConfChange('n1', { kind: 'add-learner', node: 'y' }).accepted, 20), null);
  });

  test('invalid changes are refused with a reason naming the node', () => {
    const c = cluster(3);
    elect(c, 'n1');
    c.ticks(3);
    const res = c.proposeConfChange('n1', { kind: 'promote', node: 'n2' });
    assert.equal(res.accepted, false);
    assert.match(res.accepted ? '' : res.detail, /node "n2" is not a learner \(already a voter\)/);
    const follower = c.proposeConfChange('n2', { kind: 'remove', node: 'n3' });
    assert.equal(follower.accepted ? '' : follower.reason, 'not-leader');
    assert.equal(follower.accepted ? '' : follower.leaderHint, 'n1');
  });

  test('removing a follower: the rest go on committing without it', () => {
    const c = cluster(3);
    elect(c, 'n1');
    assert.ok(c.proposeConfChange('n1', { kind: 'remove', node: 'n3' }).accepted);
    assert.notEqual(c.tickUntil(() => !voters(c, 'n2').includes('n3') && !c.node('n1').raw!.status().confState.voters.includes('n3'), 10), null);
    c.crash('n3');
    const idx = put(c, 'k', 'v');
    assert.notEqual(c.tickUntil(() => commit(c, 'n2') >= idx, 10), null);
  });

  test('removing the leader: it steps down once the removal commits and a successor takes over fast', () => {
    const c = cluster(3);
    elect(c, 'n1');
    c.ticks(3);
    const res = c.proposeConfChange('n1', { kind: 'remove', node: 'n1' });
    assert.ok(res.accepted);
    const took = c.tickUntil(() => {
      const l = c.leader();
      return l !== null && l.id !== 'n1';
    }, 30);
    assert.notEqual(took, null);
    // Faster than an election timeout (10 ticks): the old leader sent TimeoutNow to a caught-up voter.
    assert.ok(took! < 10, `new leader after ${took} ticks`);
    assert.equal(role(c, 'n1'), 'follower');
    assert.deepEqual(voters(c, c.leader()!.id), ['n2', 'n3']);
    const idx = put(c, 'k', 'v');
    assert.notEqual(c.tickUntil(() => commit(c, 'n2') >= idx && commit(c, 'n3') >= idx, 10), null);
    c.ticks(50);
    assert.notEqual(role(c, 'n1'), 'leader', 'a removed node never campaigns');
  });

  test('autoremove: a silent voter is removed while voters exceed the minimum, never below it', () => {
    const c = cluster(4, { node: { autoremove: { minimumVoters: 3, afterTicks: 30 } } });
    elect(c, 'n1');
    c.crash('n4');
    assert.notEqual(c.tickUntil(() => voters(c, 'n1').length === 3, 60), null);
    assert.ok(c.events.some((e) => e.event.kind === 'autoremove-proposed' && e.event.node === 'n4' && e.event.silentTicks >= 30));
    c.crash('n3');
    c.ticks(80);
    assert.deepEqual(voters(c, 'n1'), ['n1', 'n2', 'n3'], 'three voters is the minimum: n3 stays');
  });
});

describe('leadership transfer', () => {
  test('the target is caught up, then told to campaign; it wins at once', () => {
    const c = cluster(3);
    elect(c, 'n1');
    c.crash('n3');
    let last = 0;
    for (let i = 0; i < 10; i++) last = put(c, 'k', `v${i}`);
    c.ticks(3);
    c.restart('n3'); // behind by ten entries
    const res = c.node('n1').raw!.transferLeader('n3');
    assert.equal(res.started, true);
    const refused = c.propose('n1', { id: 1, input: { kind: 'put', key: 'k', value: 'during' } });
    assert.equal(refused.accepted ? '' : refused.reason, 'transfer-in-progress');
    assert.notEqual(c.tickUntil(() => c.leader()?.id === 'n3', 10), null);
    assert.ok(c.node('n3').disk.lastIndex() > last, 'it had every entry when it won');
    assert.notEqual(c.tickUntil(() => c.node('n3').kv.get('k') === 'v9', 5), null);
  });

  test('a follower forwards a transfer request to the leader', () => {
    const c = cluster(3);
    elect(c, 'n1');
    c.ticks(3);
    assert.match(c.node('n2').raw!.transferLeader('n2').detail, /forwarded to leader n1/);
    assert.notEqual(c.tickUntil(() => c.leader()?.id === 'n2', 10), null);
  });

  test('a transfer that cannot complete is aborted after an election timeout; proposals resume', () => {
    const c = cluster(3);
    elect(c, 'n1');
    c.ticks(3);
    c.crash('n3');
    assert.equal(c.node('n1').raw!.transferLeader('n3').started, true);
    assert.notEqual(c.tickUntil(() => c.events.some((e) => e.event.kind === 'transfer-aborted'), 15), null);
    assert.equal(c.leader()?.id, 'n1');
    assert.equal(c.propose('n1', { id: 2, input: { kind: 'put', key: 'k', value: 'v' } }).accepted, true);
  });

  test('a transfer to a non-voter is refused', () => {
    const c = cluster(3);
    elect(c, 'n1');
    assert.deepEqual(c.node('n1').raw!.transferLeader('zz'), { started: false, detail: 'zz is not a voter' });
  });
});
