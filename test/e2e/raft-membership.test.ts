/**
 * End to end on the built-in Raft DCS: membership and leadership as jobs, with real agents and real
 * PostgreSQL 15 (issue 4, "Real processes" and item 6). One shared cluster, tests run in order and
 * each leaves the cluster healthy for the next:
 *   1. switchover while the old primary is also the Raft leader;
 *   2. Raft leadership transfer requested on a follower (no PostgreSQL failover follows);
 *   3. a fourth node added by job through ctl, that clones PostgreSQL and keeps its membership across
 *      a restart with no config edit;
 *   4. removal by job of a stopped node, then of the Raft leader itself;
 *   5. cluster_mgr's POST /HttpService/Emit with the seed's request bodies;
 *   6. a node joining while the Raft leader is a member added after bootstrap.
 * Each prints what it measured ("measured: ..."). Runtime about one minute.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { LocalCluster, type AgentNode } from '../support/cluster.js';
import { sleep, waitFor } from '../support/ports.js';
import { Writer } from '../support/writer.js';
import {
  emit, emitBody, emitWait, primaryTimeline, raftAddr, raftLeaderNode, raftView, runCtl, streamingFrom, submitJob,
  voters, waitJob, waitRaftLeaderEverywhere, type JobView,
} from './raft-helpers.js';

const TTL = 10;
const LOOP_WAIT = 2;
const JSON_HEADERS = { 'content-type': 'application/json' };

describe('Raft membership and leadership jobs end to end (real agents and PostgreSQL, no etcd)', { timeout: 300_000 }, () => {
  let c: LocalCluster;
  let primary: AgentNode;
  /** Nodes whose agent runs and that are Raft members. */
  let members: AgentNode[] = [];

  before(async () => {
    c = await LocalCluster.create({ nodes: 3, ttl: TTL, loopWait: LOOP_WAIT, retryTimeout: 3, scope: 'raft-members', dcsKind: 'raft' });
    c.startAll();
    primary = await c.waitForHealthy(2);
    members = [...c.nodes];
    await Writer.prepare(primary);
  });
  after(async () => { if (process.env.E2E_LOGS) console.log(c?.dumpLogs(60)); await c?.destroy(); });

  /**
   * A Writer started on an empty `writes` table: each Writer counts ids from 1, and it would take
   * the ids an earlier Writer left behind (duplicate key) for its own acknowledged writes.
   */
  async function startWriter(): Promise<Writer> {
    await primary.query('TRUNCATE writes');
    const w = new Writer(c);
    w.start();
    return w;
  }

  /** Waits until GET /cluster on `leader` shows `replica` streaming with under 256 kB of lag. */
  async function waitCaughtUp(leader: AgentNode, replica: AgentNode): Promise<void> {
    await waitFor(`${replica.name} caught up in GET /cluster`, async () => {
      const body = (await leader.api('/cluster')).body as { members?: Array<{ name: string; state?: string; lag?: unknown }> };
      const m = body.members?.find((x) => x.name === replica.name);
      return m?.state === 'streaming' && typeof m.lag === 'number' && m.lag < 256 * 1024;
    }, 30_000, 200);
  }

  /** Moves Raft leadership to `to` by job (submitted on `via`) unless it already leads. */
  async function makeRaftLeader(to: AgentNode, via: AgentNode): Promise<void> {
    if ((await raftView(to))?.role === 'leader') return;
    const job = await submitJob(via, 'POST', '/raft/transfer-leader', { target: raftAddr(c, to) });
    const done = await waitJob(members, job.id);
    assert.equal(done.state, 'succeeded', done.message);
    await waitRaftLeaderEverywhere(members, raftAddr(c, to));
  }

  /** Asserts the primary is unchanged: /primary 200, writable, same timeline, no other writable node. */
  async function assertPrimaryKept(timeline: number): Promise<void> {
    assert.equal(await primary.status('/primary'), 200);
    assert.equal(await primaryTimeline(primary), timeline, 'the primary\'s timeline changed: a promotion happened');
    assert.deepEqual((await c.writableNodes()).map((n) => n.name), [primary.name]);
  }

  test('switchover to a named candidate while the old primary is also the Raft leader', async () => {
    const old = primary;
    await makeRaftLeader(old, members.find((n) => n !== old)!);
    const wasRaftLeader = (await raftView(old))?.role === 'leader';
    const cand = members.find((n) => n !== old)!;
    // A replica that has just been cloned may still report a WAL position far behind: the leader
    // would then refuse it (maximum_lag_on_failover) and clear the request.
    await waitCaughtUp(old, cand);
    const w = await startWriter();
    try {
      await sleep(300);
      const t0 = performance.now();
      type Reply = { status: number; body: unknown };
      const answered: Reply[] = [];
      const post = old.api('/switchover', { method: 'POST', headers: JSON_HEADERS, body: JSON.stringify({ leader: old.name, candidate: cand.name }) })
        .then((x) => { answered.push(x); return x; });
      // Stop waiting at once if the switchover is refused.
      const res = await waitFor(`${cand.name} writable`, async (): Promise<{ ms: number } | { refused: Reply } | null> => {
        const a = answered[0];
        if (a !== undefined && a.status >= 300) return { refused: a };
        return (await cand.writable()) ? { ms: performance.now() - t0 } : null;
      }, 30_000, 20);
      if ('refused' in res) assert.fail(`POST /switchover: ${res.refused.status} ${JSON.stringify(res.refused.body)}`);
      const ms = res.ms;
      const r = await post;
      console.log(`measured: raft switchover: ${(ms / 1000).toFixed(2)} s (case: old primary was also the raft leader: ${wasRaftLeader})`);
      assert.ok(r.status >= 200 && r.status < 300, `POST /switchover: ${r.status} ${JSON.stringify(r.body)}`);
      assert.ok(wasRaftLeader, 'could not arrange the old primary to be the raft leader');
      assert.ok(ms < 15_000, `switchover took ${ms} ms`);
      await waitFor(`${old.name} streams from ${cand.name}`, async () => (await streamingFrom(cand)).includes(old.name), 60_000, 200);
      assert.equal(await cand.status('/primary'), 200);
      await sleep(300); // a few writes through the new primary
    } finally {
      await w.stop();
    }
    assert.ok(w.acked.length > 10, `only ${w.acked.length} writes acknowledged`);
    assert.deepEqual(await w.missingOn(cand), [], 'acknowledged writes missing on the new primary');
    primary = cand;
  });

  test('Raft leadership transfer requested on a follower: the leader carries it out, PostgreSQL roles stay', async () => {
    const leader = await waitFor('a raft leader', () => raftLeaderNode(c, members), 10_000);
    const [via, target] = members.filter((n) => n !== leader) as [AgentNode, AgentNode];
    const timeline = await primaryTimeline(primary);
    const w = await startWriter();
    let done: JobView;
    let jobMs: number;
    try {
      await sleep(300);
      const t0 = performance.now();
      const job = await submitJob(via, 'POST', '/raft/transfer-leader', { target: raftAddr(c, target) });
      assert.equal(job.kind, 'transfer_leader');
      assert.deepEqual(job.params, { target: raftAddr(c, target) });
      done = await waitJob([via], job.id);
      jobMs = performance.now() - t0;
      assert.equal(done.state, 'succeeded', done.message);
      await waitRaftLeaderEverywhere(members, raftAddr(c, target));
      // Let every HA loop run at least twice against the new Raft leader before judging.
      await sleep(2 * LOOP_WAIT * 1000 + 500);
    } finally {
      await w.stop();
    }
    console.log(`measured: raft leader transfer by job: ${(jobMs / 1000).toFixed(2)} s; primary's longest write gap: ${Math.round(w.maxGapMs)} ms`);
    await assertPrimaryKept(timeline);
    assert.ok(w.maxGapMs < 3000, `the primary stopped taking writes for ${Math.round(w.maxGapMs)} ms`);
    assert.deepEqual(await w.missingOn(primary), []);
    const jobs = (await via.api('/jobs')).body as JobView[];
    assert.ok(jobs.some((j) => j.id === done.id && j.state === 'succeeded'), 'GET /jobs lists the finished job');
  });

  test('a fourth node added by job through ctl becomes a voter, clones PostgreSQL, and keeps its peers across a restart', async () => {
    const n4 = await c.addNode({ raftJoin: true });
    const addr = c.raftAddrs.at(-1)!;
    const configBefore = readFileSync(n4.configPath, 'utf8');
    n4.start();
    const add = await runCtl(primary.configPath, ['raft', 'add', addr]);
    assert.equal(add.code, 0, `ctl raft add: ${add.stdout}${add.stderr}`);
    const id = /job (\S+) queued/.exec(add.stdout)?.[1];
    assert.ok(id, `no job id in: ${add.stdout}`);
    const job = await waitFor(`ctl jobs ${id} to finish`, async () => {
      const r = await runCtl(primary.configPath, ['jobs', id, '-f', 'json']);
      const j = r.code === 0 ? (JSON.parse(r.stdout) as JobView) : null;
      return j && (j.state === 'succeeded' || j.state === 'failed') ? j : null;
    }, 60_000, 1000);
    assert.equal(job.state, 'succeeded', job.message);
    members.push(n4);
    const all4 = [...c.raftAddrs.slice(0, 3), addr].sort();
    for (const n of members) {
      await waitFor(`${n.name} to list 4 voters`, async () => { const v = await raftView(n); return v && voters(v).join() === all4.join(); }, 10_000);
    }
    const st = await runCtl(primary.configPath, ['raft', 'status', '-f', 'json']);
    assert.equal(st.code, 0, st.stderr);
    assert.equal((JSON.parse(st.stdout) as { peers: unknown[] }).peers.length, 4);
    await waitFor(`${n4.name} streams from ${primary.name}`, async () => (await n4.status('/replica')) === 200 && (await streamingFrom(primary)).includes(n4.name), 90_000, 300)
      .catch((e) => { console.log(c.dumpLogs(30)); throw e; });

    await n4.stop();
    n4.start();
    const v = await waitFor(`${n4.name} restarted knows its peers`, async () => { const x = await raftView(n4); return x?.leader ? x : null; }, 20_000);
    assert.deepEqual(voters(v), all4, 'membership after restart comes from the replicated log');
    assert.equal(readFileSync(n4.configPath, 'utf8'), configBefore, 'the config file was not edited');
    await waitFor(`${n4.name} streams again`, async () => (await n4.status('/replica')) === 200, 60_000, 300);
  });

  test('a stopped node removed by job; then the Raft leader removes itself by job', async () => {
    const timeline = await primaryTimeline(primary);
    const rl = await waitFor('a raft leader', () => raftLeaderNode(c, members), 10_000);
    const victim = members.find((n) => n !== primary && n !== rl && n !== c.nodes[3])!;
    await victim.stop();
    members = members.filter((n) => n !== victim);
    const job = await submitJob(primary, 'DELETE', `/raft/peers/${encodeURIComponent(raftAddr(c, victim))}`);
    assert.equal(job.kind, 'remove_peer');
    const done = await waitJob(members, job.id);
    assert.equal(done.state, 'succeeded', done.message);
    const three = members.map((n) => raftAddr(c, n)).sort();
    for (const n of members) {
      await waitFor(`${n.name} to list 3 voters`, async () => { const v = await raftView(n); return v?.leader && voters(v).join() === three.join(); }, 10_000);
    }
    await assertPrimaryKept(timeline);

    // Removing the leader: arrange a leader that is not the PostgreSQL primary (stopping the removed
    // node afterwards must not cause a failover), and submit the job on that leader itself.
    // Keep node4 (added by job above): the last test needs a member that joined after bootstrap.
    const leader = members.find((n) => n !== primary && n !== c.nodes[3]) ?? members.find((n) => n !== primary)!;
    await makeRaftLeader(leader, primary);
    const t0 = performance.now();
    const self = await submitJob(leader, 'DELETE', `/raft/peers/${encodeURIComponent(raftAddr(c, leader))}`);
    members = members.filter((n) => n !== leader);
    const selfDone = await waitJob(members, self.id);
    assert.equal(selfDone.state, 'succeeded', selfDone.message);
    const two = members.map((n) => raftAddr(c, n)).sort();
    for (const n of members) {
      await waitFor(`${n.name} to list 2 voters and a new leader`, async () => {
        const v = await raftView(n);
        return v?.leader && v.leader !== raftAddr(c, leader) && voters(v).join() === two.join();
      }, 10_000);
    }
    console.log(`measured: raft leader removed itself by job: new leader in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    await leader.stop();
    await sleep(LOOP_WAIT * 1000);
    await assertPrimaryKept(timeline);
  });

  test('POST /HttpService/Emit with the seed\'s bodies: add_peer, transfer_leader, remove_peer, get_status', async () => {
    const timeline = await primaryTimeline(primary);
    const follower = members.find((n) => n !== primary)!;
    // The Raft leader must be a member of the bootstrap configuration for a node to join (see the
    // last test): make it the primary's node, one of the three bootstrap nodes.
    await makeRaftLeader(primary, follower);
    const n5 = await c.addNode({ raftJoin: true });
    const addr5 = c.raftAddrs.at(-1)!;
    n5.start();

    const accepted = async (paras: Record<string, string>): Promise<string> => {
      const r = await emit(follower, emitBody('raft_mission', '', paras));
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body['version'], '1.0');
      assert.equal(r.body['error_code'], '0');
      assert.equal(r.body['error_info'], '');
      assert.equal(r.body['status'], 'accept');
      assert.equal(typeof r.body['job_id'], 'string');
      assert.notEqual(r.body['job_id'], '');
      return r.body['job_id'] as string;
    };
    const finished = async (id: string): Promise<void> => {
      const s = await emitWait(members, id);
      assert.equal(s['status'], 'done', JSON.stringify(s));
      assert.equal(s['job_id'], id);
      assert.equal(s['version'], '1.0');
      assert.equal(s['error_code'], '0');
    };

    await finished(await accepted({ task_type: 'add_peer', peer: addr5 }));
    members.push(n5);
    const three = members.map((n) => raftAddr(c, n)).sort();
    await waitFor('3 voters with the new node', async () => { const v = await raftView(primary); return v && voters(v).join() === three.join(); }, 10_000);

    const leader = await waitFor('a raft leader', () => raftLeaderNode(c, members), 10_000);
    const target = members.find((n) => n !== leader && n !== n5)!;
    await finished(await accepted({ task_type: 'transfer_leader', target_leader: raftAddr(c, target) }));
    await waitRaftLeaderEverywhere(members, raftAddr(c, target));

    // Stop it only once its clone is done: an agent stopped in the middle of a clone still starts
    // PostgreSQL after logging 'stopped' and does not exit until SIGKILLed (an open agent bug), so
    // stop() would wait 30 s for its SIGKILL fallback.
    await waitFor(`${n5.name} streams`, async () => (await n5.status('/replica')) === 200, 60_000, 300);
    await n5.stop();
    members = members.filter((n) => n !== n5);
    await finished(await accepted({ task_type: 'remove_peer', peer: addr5 }));
    const two = members.map((n) => raftAddr(c, n)).sort();
    await waitFor('back to 2 voters', async () => { const v = await raftView(primary); return v?.leader && voters(v).join() === two.join(); }, 10_000);

    // Errors a user can make answer 400/404 with the field named.
    const bad = await emit(follower, emitBody('raft_mission', '', { task_type: 'split_brain', peer: addr5 }));
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.body), /paras\.task_type/);
    const unknown = await emit(follower, emitBody('get_status', 'no-such-job', {}));
    assert.equal(unknown.status, 404);
    await assertPrimaryKept(timeline);
  });

  // Once a bug: a joining server replays the log from index 1; applying the bootstrap configuration
  // replaced its transport peers with the three bootstrap nodes, so it could no longer answer a
  // leader added later (node4) and never caught up; it also believed itself "removed" meanwhile.
  test('a node joins while the Raft leader is itself a member added after bootstrap', async () => {
    const late = c.nodes[3]!;
    assert.ok(members.includes(late), `${late.name} should still be a member`);
    await makeRaftLeader(late, primary);
    const n6 = await c.addNode({ raftJoin: true });
    const addr6 = c.raftAddrs.at(-1)!;
    n6.start();
    const job = await submitJob(primary, 'POST', '/raft/peers', { peer: addr6 });
    const done = await waitJob(members, job.id, 20_000);
    assert.equal(done.state, 'succeeded', done.message);
    const v = await waitFor(`${n6.name} knows the leader`, async () => { const x = await raftView(n6); return x?.leader ? x : null; }, 10_000);
    assert.equal(v.leader, raftAddr(c, late));
    assert.ok(voters(v).includes(addr6));
    assert.doesNotMatch(n6.log(), /was removed from the Raft cluster/, 'a joining server is not "removed" while it catches up');
  });
});
