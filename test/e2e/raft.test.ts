/**
 * End to end on the built-in Raft DCS (QLUSTER mode): three agents, each embedding a Raft node, real
 * PostgreSQL 15, no etcd. Bootstrap; SIGKILL of the node that is both the Raft leader and the
 * PostgreSQL primary; a graceful stop of the primary; GET /raft.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { LocalCluster, type AgentNode } from '../support/cluster.js';
import { waitFor } from '../support/ports.js';
import { newWritable, raftLeaderNode } from './raft-helpers.js';

const TTL = 10;

describe('HA end to end on the built-in Raft DCS (3 agents, no etcd)', { timeout: 300_000 }, () => {
  let c: LocalCluster;
  let primary: AgentNode;
  before(async () => {
    c = await LocalCluster.create({ nodes: 3, ttl: TTL, loopWait: 2, retryTimeout: 3, scope: 'raft-e2e', dcsKind: 'raft' });
    c.startAll();
  });
  after(async () => { if (process.env.E2E_LOGS) console.log(c.dumpLogs(60)); await c?.destroy(); });

  test('bootstrap: one primary and two streaming replicas; GET /raft shows one raft leader', async () => {
    primary = await c.waitForHealthy(2);
    const leader = await waitFor('a raft leader', () => raftLeaderNode(c), 10_000);
    const st = (await leader.api('/raft')).body as { term: number; commit: number };
    assert.ok(st.term >= 1 && st.commit > 1, JSON.stringify(st));
    await primary.query('CREATE TABLE IF NOT EXISTS t (id int)');
    await primary.query('INSERT INTO t VALUES (1)');
  });

  test('GET /patroni on a replica reports the WAL it has received now, not at its last HA cycle', async () => {
    const replica = c.nodes.find((n) => n !== primary)!;
    await primary.query('CREATE TABLE IF NOT EXISTS wal_probe AS SELECT generate_series(1, 1000) AS id');
    const lsn = (await primary.query<{ lsn: string }>("SELECT pg_current_wal_flush_lsn() - '0/0' AS lsn"))[0]!.lsn;
    await waitFor('the replica to receive the insert', async () => {
      const got = (await replica.query<{ got: string | null }>("SELECT pg_last_wal_receive_lsn() - '0/0' AS got"))[0]!.got;
      return Number(got) >= Number(lsn);
    }, 10_000, 10);
    // Candidates in a leader race compare these positions: a loop_wait-old one could crown a laggard.
    const st = (await replica.api('/patroni')).body as { xlog?: { received_location?: number } };
    assert.ok((st.xlog?.received_location ?? 0) >= Number(lsn), `received_location ${st.xlog?.received_location} < ${lsn}`);
  });

  test('graceful stop of the primary: a replica is writable quickly', async () => {
    const old = primary;
    const wasRaftLeader = (await raftLeaderNode(c)) === old;
    const t0 = performance.now();
    const stopping = old.stop();
    const [now, ms] = await newWritable(c, old, t0, 20_000);
    console.log(`measured: raft graceful stop: new primary writable: ${(ms / 1000).toFixed(2)} s (stopped node was raft leader: ${wasRaftLeader})`);
    assert.ok(ms < 5000, `took ${ms} ms`);
    await stopping;
    primary = now;
    old.start();
    await waitFor(`${old.name} rejoins`, async () => (await old.status('/replica')) === 200, 60_000);
  });

  test('SIGKILL of the node that is raft leader and PostgreSQL primary: a new writable primary', async () => {
    const rl = await waitFor('raft leader', () => raftLeaderNode(c), 10_000);
    const victim = primary;
    const t0 = performance.now();
    await victim.killNode();
    const [now, ms] = await newWritable(c, victim, t0, (TTL + 10) * 1000);
    console.log(`measured: raft node death: new primary writable: ${(ms / 1000).toFixed(2)} s (victim was raft leader: ${rl === victim})`);
    // Bound: ttl, plus the raft election and the new raft leader's lease extension (election timeout).
    assert.ok(ms < (TTL + 7) * 1000, `took ${ms} ms`);
    assert.equal((await now.query('SELECT count(*)::int AS n FROM t'))[0]?.n, 1);
    primary = now;
    victim.start();
    await waitFor(`${victim.name} rejoins as a replica`, async () => (await victim.status('/replica')) === 200, 90_000)
      .catch((e) => { console.log(c.dumpLogs(40)); throw e; });
  });
});
