/**
 * Chaos: freeze the primary's agent (SIGSTOP) for 2 x ttl, then SIGCONT. Its PostgreSQL would go on
 * taking writes after the lease expired; the fence process must stop it before a replica can
 * promote. A prober writes to every node directly every 100 ms; the old primary's last accepted
 * write must come before the new primary's first one (no two writable primaries).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { LocalCluster, type AgentNode } from '../support/cluster.js';
import { sleep, waitFor } from '../support/ports.js';

const TTL = 10;

class Prober {
  /** node -> monotonic ms of each accepted write */
  readonly accepted = new Map<string, number[]>();
  private running = false;
  private loops: Promise<void>[] = [];
  constructor(private readonly nodes: readonly AgentNode[]) {}

  start(): void {
    this.running = true;
    this.loops = this.nodes.map((n) => this.probe(n));
  }

  /** Write to `n` every 100 ms, reconnecting after any failure, until stopped. */
  private async probe(n: AgentNode): Promise<void> {
    let seq = 0;
    while (this.running) {
      const c = n.client();
      c.on('error', () => undefined);
      try {
        await c.connect();
        while (this.running) {
          const t = performance.now();
          await c.query('INSERT INTO probe (node, seq) VALUES ($1, $2)', [n.name, seq++]);
          const list = this.accepted.get(n.name) ?? [];
          list.push(performance.now());
          this.accepted.set(n.name, list);
          await sleep(Math.max(0, 100 - (performance.now() - t)));
        }
      } catch { /* read-only, down or unreachable: try again */ }
      await c.end().catch(() => undefined);
      await sleep(100);
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

describe('chaos: frozen primary agent (SIGSTOP for 2 x ttl)', { timeout: 300_000 }, () => {
  let c: LocalCluster;
  before(async () => {
    c = await LocalCluster.create({ nodes: 3, ttl: TTL, loopWait: 2, retryTimeout: 3, scope: 'chaos-freeze' });
    c.startAll();
  });
  after(async () => { await c?.destroy(); });

  test('the fence stops the old primary before a new one takes writes; the cluster heals', async () => {
    const primary = await c.waitForPrimary(90_000);
    await c.waitForReplicas(2, 90_000);
    await primary.query('CREATE TABLE IF NOT EXISTS probe (node text, seq bigint, at timestamptz DEFAULT clock_timestamp())');
    for (const n of c.nodes) await waitFor(`probe table on ${n.name}`, async () => (await n.query("SELECT to_regclass('probe') AS t"))[0]?.t !== null, 10_000);

    const prober = new Prober(c.nodes);
    prober.start();
    await sleep(1000);
    const frozenAt = performance.now();
    primary.proc!.child.kill('SIGSTOP');
    let newPrimary: AgentNode;
    try {
      newPrimary = await waitFor('a new primary', async () => {
        for (const n of c.nodes) if (n !== primary && (await n.writable())) return n;
        return null;
      }, 2 * TTL * 1000, 100);
      const remaining = 2 * TTL * 1000 - (performance.now() - frozenAt);
      if (remaining > 0) await sleep(remaining);
    } finally {
      primary.proc!.child.kill('SIGCONT');
    }
    await sleep(1000);
    await prober.stop();

    const oldWrites = prober.accepted.get(primary.name) ?? [];
    const newWrites = prober.accepted.get(newPrimary.name) ?? [];
    assert.ok(newWrites.length > 0, 'the new primary accepted writes');
    const lastOld = Math.max(...oldWrites.filter((t) => t >= frozenAt - 1000));
    const firstNew = Math.min(...newWrites);
    console.log(`measured: freeze: old primary's last write ${((lastOld - frozenAt) / 1000).toFixed(2)} s after the freeze, new primary's first write ${((firstNew - frozenAt) / 1000).toFixed(2)} s after`);
    assert.ok(lastOld < firstNew, `split brain: the old primary accepted a write ${(lastOld - firstNew).toFixed(0)} ms after the new primary's first`);
    const lateOld = oldWrites.filter((t) => t > firstNew);
    assert.equal(lateOld.length, 0, 'the old primary accepted writes after the new primary did');

    // Heals: the old node, thawed, rejoins as a replica of the new primary.
    await waitFor(`${primary.name} rejoins as a replica`, async () => (await primary.status('/replica')) === 200, 60_000, 250)
      .catch((e) => { console.log(c.dumpLogs(40)); throw e; });
    assert.equal((await c.writableNodes()).length, 1);
  });
});
