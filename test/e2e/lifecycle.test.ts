/**
 * Agent lifecycle edge: SIGTERM while a new replica is being cloned. pg_basebackup is throttled
 * (postgresql.basebackup max-rate) so the clone is surely running when the signal arrives. The agent
 * must end the clone, remove the partial data directory, start no PostgreSQL, and exit promptly.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { LocalCluster } from '../support/cluster.js';
import { waitFor } from '../support/ports.js';

describe('agent lifecycle (etcd, 2 agents)', { timeout: 180_000 }, () => {
  let c: LocalCluster;
  before(async () => {
    c = await LocalCluster.create({
      nodes: 2, ttl: 10, loopWait: 2, retryTimeout: 3, scope: 'lifecycle',
      postgresql: (name) => (name === 'node2' ? { basebackup: { 'max-rate': '32k' } } : {}),
    });
  });
  after(async () => { await c?.destroy(); });

  test('SIGTERM during a clone ends pg_basebackup, leaves no partial data directory and starts no PostgreSQL', async () => {
    const [primary, replica] = c.nodes as [typeof c.nodes[0], typeof c.nodes[0]];
    primary.start();
    await c.waitForPrimary(60_000);
    replica.start();
    await waitFor('the clone to be running', async () => {
      const r = await replica.api('/patroni').catch(() => null);
      return (r?.body as { state?: string } | undefined)?.state === 'creating replica';
    }, 60_000, 100);
    const t0 = performance.now();
    const proc = replica.proc!;
    proc.child.kill('SIGTERM');
    const exited = await Promise.race([proc.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 20_000))]);
    replica.proc = null;
    if (!exited) proc.signal('SIGKILL');
    assert.ok(exited, `the agent did not exit within 20 s of SIGTERM:\n${c.dumpLogs(30)}`);
    console.log(`measured: SIGTERM during a clone: agent exited after ${((performance.now() - t0) / 1000).toFixed(2)} s`);
    assert.equal(replica.postmasterPid(), null, 'no PostgreSQL may run after the agent stopped');
    const left = existsSync(replica.dataDir) ? readdirSync(replica.dataDir) : [];
    assert.deepEqual(left, [], 'the partial data directory is removed');
    assert.match(replica.log(), /ending the running clone/);
  });
});
