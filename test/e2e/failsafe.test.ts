/**
 * End to end, failsafe_mode (issue 5 item 3): three real agents, PostgreSQL 15 and etcd on loopback
 * (ttl 10, loop_wait 2, retry_timeout 3), each agent behind its own fault proxy to etcd.
 * Patroni's dcs_failsafe_mode scenarios: the leader keeps /failsafe; with etcd down a primary every
 * member confirms stays writable and nobody promotes; with etcd down and one replica dead it demotes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { LocalCluster, type AgentNode } from '../support/cluster.js';
import { sleep, waitFor } from '../support/ports.js';
import { Writer } from '../support/writer.js';

const TTL = 10;

function measured(what: string, ms: number): void {
  console.log(`measured: ${what}: ${(ms / 1000).toFixed(2)} s`);
}

describe('failsafe mode end to end (etcd, 3 agents)', { timeout: 240_000 }, () => {
  let c: LocalCluster;
  let primary: AgentNode;

  before(async () => {
    c = await LocalCluster.create({ nodes: 3, ttl: TTL, loopWait: 2, retryTimeout: 3, etcdProxies: true, dcs: { failsafe_mode: true } });
    c.startAll();
    primary = await c.waitForHealthy(2);
    await Writer.prepare(primary);
  });
  after(async () => {
    if (process.env.E2E_LOGS) console.log(c?.dumpLogs(80));
    await c?.destroy();
  });

  test('GET /failsafe lists all three members with their REST URLs', async () => {
    const body = await waitFor('three members in /failsafe', async () => {
      const r = await primary.api('/failsafe');
      const b = r.body as Record<string, string>;
      return r.status === 200 && Object.keys(b).length === 3 ? b : null;
    }, 20_000, 200);
    for (const n of c.nodes) assert.equal(body[n.name], `${n.apiBase}/patroni`);
  });

  test('etcd down for 2 x ttl: the primary stays writable, nobody promotes; etcd back: healthy', async () => {
    const writer = new Writer(c, 20);
    writer.start();
    let sawActive = false;
    const t0 = performance.now();
    try {
      await c.etcd.stop();
      while (performance.now() - t0 < 2 * TTL * 1000) {
        const writable = await c.writableNodes();
        assert.deepEqual(writable.map((n) => n.name), [primary.name], `writable nodes ${(performance.now() - t0).toFixed(0)} ms into the outage`);
        const st = await primary.api('/primary').catch(() => ({ status: 0, body: {} }));
        if (st.status === 200 && (st.body as Record<string, unknown>).failsafe_mode_is_active === true) sawActive = true;
        await sleep(500);
      }
    } finally {
      await c.etcd.restart();
    }
    await writer.stop();
    measured('longest write gap with etcd down for 2 x ttl', writer.maxGapMs);
    assert.ok(sawActive, '/primary never reported failsafe_mode_is_active');
    assert.ok(writer.maxGapMs < 1500, `writes stalled for ${writer.maxGapMs.toFixed(0)} ms`);
    assert.equal(await c.waitForHealthy(2, 60_000), primary);
    assert.deepEqual(await writer.missingOn(primary), []);
  });

  test('etcd down and one replica dead: the primary demotes within about ttl; restored afterwards', async () => {
    const victim = c.nodes.find((n) => n !== primary)!;
    let demotedAfter = -1;
    const t0 = performance.now();
    try {
      await victim.killNode();
      await c.etcd.stop();
      await waitFor('the primary to stop taking writes', async () => !(await primary.writable()), TTL * 1000 + 5000, 100);
      demotedAfter = performance.now() - t0;
      measured('primary demoted after etcd stop + replica death', demotedAfter);
      // Nobody else may have promoted meanwhile.
      assert.deepEqual((await c.writableNodes()).map((n) => n.name), []);
    } finally {
      await c.etcd.restart();
      victim.start();
    }
    assert.ok(demotedAfter >= 0 && demotedAfter <= TTL * 1000 + 2000, `demoted after ${demotedAfter.toFixed(0)} ms`);
    const p = await c.waitForHealthy(2, 90_000);
    assert.equal((await c.writableNodes()).length, 1);
    console.log(`measured: primary after restore: ${p.name} (was ${primary.name})`);
  });
});
