/**
 * End to end on Consul: three real agents with real PostgreSQL 15 on loopback, their DCS the FAKE
 * Consul served from this test process (no Consul binary can be installed here). The node running
 * the primary dies (agent and postmaster SIGKILLed); its session stops being renewed, Consul deletes
 * the leader key, a replica takes over, and the old node, restarted, rejoins as a replica.
 * Test profile: ttl 10 (sessions of 5 s), loop_wait 2, retry_timeout 3.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { LocalCluster, type AgentNode } from '../support/cluster.js';
import { waitFor } from '../support/ports.js';

const TTL = 10;
const LOOP_WAIT = 2;

describe('HA end to end on the FAKE Consul (3 agents)', { timeout: 300_000 }, () => {
  let c: LocalCluster;
  let primary: AgentNode;

  before(async () => {
    c = await LocalCluster.create({ nodes: 3, ttl: TTL, loopWait: LOOP_WAIT, retryTimeout: 3, dcsKind: 'consul', scope: 'e2e-consul' });
    c.startAll();
  });
  after(async () => {
    if (process.env.E2E_LOGS) console.log(c.dumpLogs(80));
    await c?.destroy();
  });

  /** The leader key as the fake Consul holds it: member name and the session it is bound to. */
  const leaderKey = () => c.consul!.state.kv.get('service/e2e-consul/leader');

  test('bootstrap: one primary holding the leader key through a session, two streaming replicas', async () => {
    primary = await c.waitForHealthy(2);
    assert.equal((await c.writableNodes()).length, 1);
    const key = leaderKey();
    assert.equal(key?.value.toString(), primary.name);
    const session = c.consul!.state.sessions.get(key!.session!);
    assert.equal(session?.ttl, `${TTL / 2}s`, 'session TTL is ttl/2');
    assert.equal(session?.behavior, 'delete');
    assert.equal(session?.lockDelayMs, 0);
    const members = [...c.consul!.state.kv.keys()].filter((k) => k.startsWith('service/e2e-consul/members/')).sort();
    assert.deepEqual(members, c.nodes.map((n) => `service/e2e-consul/members/${n.name}`).sort());
    await primary.query('CREATE TABLE IF NOT EXISTS t (id int primary key)');
    await primary.query('INSERT INTO t VALUES (1)');
    // register_service: each agent registers its database with a role tag (DNS primary.<scope>...).
    await waitFor('services registered with role tags', () => {
      const tags = (n: string) => (c.consul!.services.get(`e2e-consul/${n}`)?.Tags as string[] | undefined) ?? [];
      return tags(primary.name).includes('primary') && c.nodes.filter((n) => n !== primary).every((n) => tags(n.name).includes('replica'));
    }, 20_000, 200);
  });

  test('primary node death: a replica is writable within ttl + loop_wait + 5 s; the old node rejoins as a replica', async () => {
    const victim = primary;
    const t0 = performance.now();
    await victim.killNode();
    const next = await waitFor('a new writable primary', async () => {
      for (const n of c.nodes) if (n !== victim && (await n.writable())) return n;
      return null;
    }, (TTL + LOOP_WAIT + 5) * 1000 + 10_000, 50).catch((e: unknown) => { console.log(c.dumpLogs(40)); throw e; });
    const ms = performance.now() - t0;
    console.log(`measured: consul node death: new primary writable after ${(ms / 1000).toFixed(2)} s`);
    assert.ok(ms <= (TTL + LOOP_WAIT + 5) * 1000, `took ${ms} ms`);
    assert.equal(leaderKey()?.value.toString(), next.name);
    assert.equal((await next.query<{ id: number }>('SELECT id FROM t')).length, 1, 'the row written before the failure survived');
    primary = next;
    await primary.query('INSERT INTO t VALUES (2)');

    victim.start();
    await waitFor(`${victim.name} rejoins as a streaming replica`, async () => (await victim.status('/replica')) === 200, 90_000)
      .catch((e: unknown) => { console.log(c.dumpLogs(40)); throw e; });
    await waitFor('the rejoined node has the new primary\'s row', async () => (await victim.query('SELECT 1 FROM t WHERE id = 2')).length === 1, 15_000);
    assert.equal((await c.writableNodes()).length, 1, 'still exactly one writable node');
    assert.equal(leaderKey()?.value.toString(), primary.name);
  });
});
