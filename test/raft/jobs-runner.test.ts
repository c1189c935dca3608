/**
 * The job runner's decisions against a fake node (no Raft, no timers): goal checks, refusals that
 * fail a job, a pending change that is retried, the timeout, and pruning of old finished jobs.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConfState } from '../../src/raft/core/index.js';
import { KEEP_FINISHED, RaftJobs, type JobsNode, type RaftJob } from '../../src/raft/jobs.js';
import type { KeyValue, TxnRequest } from '../../src/raft/kv/index.js';
import { RaftRefusedError } from '../../src/raft/node.js';
import { waitFor } from '../support/ports.js';

const P = '/service/x/jobs/';
const quiet = { info() {}, warn() {} };

class FakeNode implements JobsNode {
  readonly id = 'a:1';
  isLeader = true;
  leader: string | null = 'a:1';
  conf: ConfState = { voters: ['a:1', 'b:1', 'c:1'], learners: [] };
  readonly store = new Map<string, string>();
  readonly calls: string[] = [];
  addPeerResult: () => Promise<void> = async () => undefined;
  membership(): ConfState { return this.conf; }
  private kvs(prefix: string): KeyValue[] {
    return [...this.store].filter(([k]) => k.startsWith(prefix)).map(([key, value]) => ({ key, value, createRevision: 1, modRevision: 1, version: 1, lease: 0 }));
  }
  readonly kv = { range: (t: { prefix: string }) => ({ kvs: this.kvs(t.prefix), revision: 1 }) };
  async txn(r: TxnRequest) {
    for (const op of r.success) {
      if (op.kind === 'put') this.store.set(op.key, op.value);
      if (op.kind === 'delete') this.store.delete(op.key);
    }
    return { kind: 'txn' as const, succeeded: true, revision: 1, responses: [] } as never;
  }
  async range(t: { key: string } | { prefix: string }) {
    return { kvs: 'key' in t ? this.kvs(t.key).filter((kv) => kv.key === t.key) : this.kvs(t.prefix), revision: 1 };
  }
  addPeer(id: string) { this.calls.push(`add ${id}`); return this.addPeerResult(); }
  async removePeer(id: string) { this.calls.push(`remove ${id}`); }
  async transferLeader(t: string) { this.calls.push(`transfer ${t}`); }
}

const job = (n: FakeNode, id: string) => JSON.parse(n.store.get(P + id)!) as RaftJob;

describe('RaftJobs runner', () => {
  test('add_peer: proposes once, then succeeds when the peer is a voter', async () => {
    const n = new FakeNode();
    const jobs = new RaftJobs(n, P, quiet);
    const j = await jobs.submit('add_peer', { peer: 'd:1' });
    await jobs.pass();
    assert.deepEqual(n.calls, ['add d:1']);
    assert.equal(job(n, j.id).state, 'running');
    await jobs.pass();
    assert.deepEqual(n.calls, ['add d:1'], 'not proposed again while it is in progress');
    n.conf = { voters: [...n.conf.voters, 'd:1'], learners: [] };
    await jobs.pass();
    assert.equal(job(n, j.id).state, 'succeeded');
    assert.equal((await jobs.get(j.id))?.message, 'd:1 is a voter');
  });

  test('a refusal fails the job, a pending change is retried, a follower does nothing', async () => {
    const n = new FakeNode();
    const jobs = new RaftJobs(n, P, quiet);
    n.addPeerResult = () => Promise.reject(new RaftRefusedError('invalid-conf-change: d:1 is already a member'));
    const bad = await jobs.submit('add_peer', { peer: 'd:1' });
    await jobs.pass();
    assert.equal(job(n, bad.id).state, 'failed');
    assert.match(job(n, bad.id).message, /invalid-conf-change/);

    n.addPeerResult = () => Promise.reject(new RaftRefusedError('conf-change-pending: another change is committing'));
    const pending = await jobs.submit('add_peer', { peer: 'e:1' });
    await jobs.pass();
    assert.equal(job(n, pending.id).state, 'running', 'kept for a retry');

    const gone = await jobs.submit('remove_peer', { peer: 'zz:1' });
    n.isLeader = false;
    await jobs.pass();
    assert.equal(job(n, gone.id).state, 'queued', 'only the leader runs jobs');
    n.isLeader = true;
    await jobs.pass();
    assert.equal(job(n, gone.id).state, 'failed');
    assert.match(job(n, gone.id).message, /zz:1 is not a member \(members: a:1, b:1, c:1\)/);
  });

  test('transfer_leader: unknown target fails; a job past its deadline fails', async () => {
    const n = new FakeNode();
    const jobs = new RaftJobs(n, P, quiet, { timeoutMs: 1 });
    const t = await jobs.submit('transfer_leader', { target: 'x:9' });
    await jobs.pass();
    assert.match(job(n, t.id).message, /x:9 is not a voter/);
    const slow = await jobs.submit('transfer_leader', { target: 'b:1' });
    await new Promise((r) => setTimeout(r, 5));
    await jobs.pass();
    assert.equal(job(n, slow.id).state, 'failed');
    assert.match(job(n, slow.id).message, /not finished within/);
    await assert.rejects(jobs.submit('transfer_leader', { target: 42 }), /target: expected a Raft address "host:port", got 42/);
  });

  test(`only the newest ${KEEP_FINISHED} finished jobs are kept`, async () => {
    const n = new FakeNode();
    const jobs = new RaftJobs(n, P, quiet);
    for (let i = 0; i < KEEP_FINISHED + 5; i++) {
      const at = new Date(Date.UTC(2030, 0, 1, 0, 0, i)).toISOString();
      const j: RaftJob = { id: `j${i}`, kind: 'add_peer', state: 'succeeded', message: '', created_at: at, updated_at: at, params: { peer: 'd:1' } };
      n.store.set(P + j.id, JSON.stringify(j));
    }
    await jobs.pass();
    assert.equal(n.store.size, KEEP_FINISHED);
    assert.ok(!n.store.has(`${P}j0`) && !n.store.has(`${P}j4`) && n.store.has(`${P}j5`));
  });

  /** A fake node whose job scans are counted (one per pass that reads, i.e. on the leader). */
  const counted = (): { n: FakeNode; passes: () => number } => {
    const n = new FakeNode();
    let passes = 0;
    const range = n.kv.range;
    (n as { kv: FakeNode['kv'] }).kv = { range: (t) => { passes++; return range(t); } };
    return { n, passes: () => passes };
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  // Polls are 5 s apart in these tests: a pass within 1 s can only come from a nudge.
  const soon = (what: string, f: () => boolean) => waitFor(what, f, 1000, 5);

  test('scheduling: a follower does not poll, an idle leader polls slowly, a nudge runs a pass at once', async (t) => {
    const { n, passes } = counted();
    n.isLeader = false;
    const jobs = new RaftJobs(n, P, quiet, { pollMs: 20, idlePollMs: 5000 });
    t.after(() => jobs.stop());
    jobs.nudge();
    await sleep(60);
    assert.equal(passes(), 0, 'a nudge before start() does nothing');
    jobs.start();
    await sleep(150);
    // A follower's pass returns before reading (it is not the leader), and schedules no other.
    assert.equal(passes(), 0);
    n.isLeader = true;
    jobs.nudge();
    await soon('a nudge to run a pass', () => passes() === 1);
    await sleep(200);
    assert.equal(passes(), 1, 'an idle leader waits idlePollMs, not pollMs');
    n.store.set(P + 'x', JSON.stringify({ id: 'x', kind: 'add_peer', state: 'queued', message: '', created_at: new Date().toISOString(), updated_at: new Date().toISOString(), params: { peer: 'd:1' } }));
    jobs.nudge();
    await soon('a leader with an unfinished job to poll every pollMs', () => passes() >= 4);
    jobs.stop();
    const after = passes();
    jobs.nudge();
    await sleep(60);
    assert.equal(passes(), after, 'no pass after stop()');
  });

  test('scheduling: a nudge during a pass runs another pass right after it', async (t) => {
    const { n, passes } = counted();
    n.addPeerResult = async () => { await sleep(150); };
    const jobs = new RaftJobs(n, P, quiet, { pollMs: 5000, idlePollMs: 5000 });
    t.after(() => jobs.stop());
    jobs.start();
    await jobs.submit('add_peer', { peer: 'd:1' }); // on the leader: nudges a pass at once
    await soon('the submit to start a pass (it then waits on addPeer)', () => passes() === 1);
    jobs.nudge();
    await soon('the nudge that came during the pass to run another', () => passes() === 2);
  });
});
