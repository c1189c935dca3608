/**
 * Membership and leadership operations as jobs, on real RaftNodes in this process (TCP on loopback,
 * disk storage in a temp dir). One cluster is carried through the steps in order: add a fourth
 * server by job, transfer leadership to it by name, remove it while it leads, restart a member with
 * no partners configured (it knows the peers from its log), remove a follower.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { startApiServer } from '../../src/api/server.js';
import type { Agent } from '../../src/ha/agent.js';
import { AgentApi } from '../../src/ha/api-backend.js';
import type { RaftJob } from '../../src/raft/jobs.js';
import { RaftNode } from '../../src/raft/node.js';
import { freePorts, waitFor } from '../support/ports.js';
import { RaftHarness } from './node-harness.js';

const PREFIX = '/service/jobs-test/jobs/';

class Harness extends RaftHarness {
  constructor() {
    super({ dirPrefix: 'raft-jobs-', jobsPrefix: PREFIX, requestTimeoutMs: 2000 });
  }

  async start(id: string, voters: readonly string[], join = false): Promise<RaftNode> {
    return this.startNode(id, { voters, ...(join ? { join: true } : {}) });
  }
}

/** Polls the job through `via` (any member) until it is finished. */
async function finished(via: RaftNode, id: string): Promise<RaftJob> {
  return waitFor(`job ${id} to finish`, async () => {
    const j = await via.jobs!.get(id);
    return j && (j.state === 'succeeded' || j.state === 'failed') ? j : null;
  }, 15_000, 100);
}

const put = async (n: RaftNode, key: string, value: string) => {
  const r = await n.txn({ compare: [], success: [{ kind: 'put', key, value }], failure: [] });
  assert.notEqual(r.kind, 'error');
};
const localValue = (n: RaftNode, key: string) => n.kv.range({ key }).kvs[0]?.value;

describe('raft membership jobs (real nodes over TCP)', () => {
  const h = new Harness();
  let ids: string[] = [];
  let d = '';
  process.on('exit', () => rmSync(h.root, { recursive: true, force: true }));
  before(async () => {
    // Four ports at once: a fourth asked for later can be one of the first three, freed meanwhile.
    const ports = (await freePorts(4)).map((p) => `127.0.0.1:${p}`);
    ids = ports.slice(0, 3);
    d = ports[3]!;
    await Promise.all(ids.map((id) => h.start(id, ids)));
    await h.leader();
  });
  after(() => h.cleanup());

  test('add_peer: a fourth server started blank becomes a voter and has the data', async () => {
    const leader = await h.leader();
    await put(leader, '/k', 'before-join');
    const newcomer = await h.start(d, [d], true);
    assert.deepEqual(newcomer.membership().voters, [], 'a joining server starts with no membership');
    const follower = [...h.nodes.values()].find((n) => !n.isLeader && n.id !== d)!;
    const job = await follower.jobs!.submit('add_peer', { peer: d }); // submitted on a follower
    assert.equal(job.state, 'queued');
    // The leader is nudged by the stored job; it does not wait for its 10 s idle poll.
    await waitFor('the leader to start the job', async () => (await leader.jobs!.get(job.id))?.state !== 'queued', 2000, 20);
    const done = await finished(leader, job.id);
    assert.equal(done.state, 'succeeded', done.message);
    assert.ok(leader.membership().voters.includes(d));
    await waitFor('the newcomer to apply the data', () => localValue(newcomer, '/k') === 'before-join', 5000, 20);
    assert.deepEqual([...newcomer.membership().voters].sort(), [...ids, d].sort());
  });

  test('transfer_leader to a named node', async () => {
    const leader = await h.leader();
    assert.notEqual(leader.id, d);
    const job = await h.node(ids.find((i) => i !== leader.id)!).jobs!.submit('transfer_leader', { target: d });
    const done = await finished(leader, job.id);
    assert.equal(done.state, 'succeeded', done.message);
    assert.ok(h.node(d).isLeader);
    const status = h.node(d).describe();
    assert.equal(status.leader, d);
    assert.equal(status.peers.length, 4);
    assert.ok(status.peers.every((p) => p.match_index !== null), 'the leader knows every match index');
  });

  test('remove_peer of the leader itself: it steps down and the others carry on', async () => {
    const old = h.node(d);
    assert.ok(old.isLeader);
    const job = await old.jobs!.submit('remove_peer', { peer: d });
    const other = h.node(ids[0]!);
    const done = await finished(other, job.id);
    assert.equal(done.state, 'succeeded', done.message);
    const leader = await h.leader();
    assert.notEqual(leader.id, d);
    assert.deepEqual([...leader.membership().voters].sort(), [...ids].sort());
    await put(leader, '/k', 'after-leader-removed');
    await h.stop(d);
  });

  test('a job with a bad target fails with a message, and bad input is refused', async () => {
    const leader = await h.leader();
    const job = await leader.jobs!.submit('transfer_leader', { target: d }); // d was removed
    const done = await finished(leader, job.id);
    assert.equal(done.state, 'failed');
    assert.match(done.message, /is not a voter/);
    await assert.rejects(leader.jobs!.submit('add_peer', { peer: 'no-port' }), /peer: expected a Raft address "host:port", got "no-port"/);
    const all = await leader.jobs!.list();
    assert.ok(all.length >= 4 && all.every((j) => j.id && j.created_at));
  });

  test('a restarted member knows the current peers from its log, with no partners configured', async () => {
    const leader = await h.leader();
    const victim = ids.find((i) => i !== leader.id)!;
    await h.stop(victim);
    await put(leader, '/k', 'while-down');
    const back = await h.start(victim, [victim]); // config names only itself
    assert.deepEqual([...back.membership().voters].sort(), [...ids].sort());
    await waitFor('the restarted member to catch up', () => localValue(back, '/k') === 'while-down', 5000, 20);
    await put(back, '/k2', 'forwarded'); // a write through it reaches the leader
  });

  test('changes asked of a follower are carried out by the leader (forwarded over the RPC channel)', async () => {
    const leader = await h.leader();
    const [f, g] = ids.filter((i) => i !== leader.id).map((i) => h.node(i)) as [RaftNode, RaftNode];
    await f.transferLeader(g.id);
    await waitFor(`${g.id} to lead`, () => g.isLeader, 5000, 20);
    await assert.rejects(f.removePeer('127.0.0.9:1'), (e: Error) => e.name === 'RaftRefusedError' && /127\.0\.0\.9:1/.test(e.message));
  });

  test('POST /HttpService/Emit on an agent API over a real node: transfer_leader, then get_status until done', async () => {
    const leader = await h.leader();
    const follower = h.node(ids.find((i) => i !== leader.id)!);
    // The agent's ApiBackend needs only its DCS here: the RaftDcs exposes raftNode and raftStatus.
    const fakeAgent = { dcs: { raftNode: follower, raftStatus: () => follower.describe() } } as unknown as Agent;
    const server = await startApiServer({ listen: '127.0.0.1:0', backend: new AgentApi(fakeAgent) });
    try {
      const emit = async (body: unknown) => {
        const r = await fetch(`http://127.0.0.1:${server.port}/HttpService/Emit`, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
        return { status: r.status, body: (await r.json()) as Record<string, unknown> };
      };
      const base = { version: '1.0', job_id: '', timestamp: '1435749309', user_name: 'kunlun_test' };
      const accepted = await emit({ ...base, job_type: 'raft_mission', paras: { task_type: 'transfer_leader', target_leader: follower.id } });
      assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
      assert.equal(accepted.body['status'], 'accept');
      const jobId = String(accepted.body['job_id']);
      const done = await waitFor('get_status to say done', async () => {
        const r = await emit({ ...base, job_id: jobId, job_type: 'get_status', paras: {} });
        return r.body['status'] === 'done' ? r : null;
      }, 10_000, 100);
      assert.equal(done.body['error_code'], '0');
      assert.ok(follower.isLeader);
      const raft = (await (await fetch(`http://127.0.0.1:${server.port}/raft`)).json()) as { leader: string };
      assert.equal(raft.leader, follower.id);
      const jobs = (await (await fetch(`http://127.0.0.1:${server.port}/jobs`)).json()) as Array<{ id: string }>;
      assert.ok(jobs.some((j) => j.id === jobId));
    } finally {
      await server.close();
    }
  });

  test('remove_peer of a follower', async () => {
    const leader = await h.leader();
    const victim = ids.find((i) => i !== leader.id)!;
    const job = await leader.jobs!.submit('remove_peer', { peer: victim });
    const done = await finished(leader, job.id);
    assert.equal(done.state, 'succeeded', done.message);
    assert.ok(!leader.membership().voters.includes(victim));
    assert.equal(leader.describe().peers.length, 2);
    await put(leader, '/k', 'two-voters');
  });
});
