/**
 * End to end, synchronous_mode_strict: three real agents, PostgreSQL 15 and etcd on loopback
 * (ttl 10, loop_wait 2). /sync names one replica and the health endpoints agree; a writer runs
 * through whatever is primary while the primary node is SIGKILLed; only the synchronous standby may
 * take over, and every acknowledged write must be on it. Then the only remaining standby is killed
 * and a write on the primary must block instead of committing unprotected.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { CTL, LocalCluster, SUPERUSER, type AgentNode } from '../support/cluster.js';
import { sleep, waitFor } from '../support/ports.js';
import { Writer } from '../support/writer.js';

interface ClusterJson { members: Array<{ name: string; role: string }> }

/** Names /sync lists, as GET /cluster on `node` reports them (role sync_standby). */
async function syncStandbys(node: AgentNode): Promise<string[]> {
  const body = (await node.api('/cluster')).body as ClusterJson;
  return body.members.filter((m) => m.role === 'sync_standby').map((m) => m.name).sort();
}

/**
 * INSERT on `node` with no statement_timeout (a cancelled wait for synchronous replication
 * commits locally and reports success, so a timeout inside PostgreSQL would hide the block).
 * Resolves 'committed', or 'blocked' when no answer came within `ms` (the connection is then cut).
 */
async function tryWrite(node: AgentNode, id: number, ms: number): Promise<'committed' | 'blocked'> {
  const c = new pg.Client({ host: '127.0.0.1', port: node.pgPort, user: SUPERUSER.username, password: SUPERUSER.password, database: 'postgres', connectionTimeoutMillis: 2000 });
  c.on('error', () => undefined);
  await c.connect();
  let timer: NodeJS.Timeout | undefined;
  try {
    const blocked = new Promise<'blocked'>((r) => { timer = setTimeout(() => r('blocked'), ms); });
    const insert = c.query('INSERT INTO writes (id) VALUES ($1)', [id]).then(() => 'committed' as const);
    insert.catch(() => undefined);
    return await Promise.race([insert, blocked]);
  } finally {
    clearTimeout(timer);
    // end() would wait for the blocked query; tearing the socket down is what a client timeout does.
    (c as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
  }
}

describe('synchronous_mode_strict end to end (etcd, 3 agents)', { timeout: 150_000 }, () => {
  let c: LocalCluster;
  let primary: AgentNode;
  let syncNode: AgentNode;
  let asyncNode: AgentNode;

  before(async () => {
    c = await LocalCluster.create({ nodes: 3, ttl: 10, loopWait: 2, retryTimeout: 3, scope: 'sync-e2e', dcs: { synchronous_mode: true, synchronous_mode_strict: true } });
    c.startAll();
  });
  after(async () => {
    if (process.env.E2E_LOGS) console.log(c.dumpLogs(Number(process.env.E2E_LOGS) || 80));
    await c?.destroy();
  });

  test('/sync names one replica; the GUC, pg_stat_replication, /synchronous and /asynchronous agree', async () => {
    try {
      primary = await c.waitForPrimary(60_000);
      await c.waitForReplicas(2, 60_000);
      const names = await waitFor('/sync naming one replica', async () => {
        const s = await syncStandbys(primary);
        return s.length === 1 ? s : null;
      }, 30_000, 200);
      syncNode = c.node(names[0]!);
    } catch (e) {
      console.log(c.dumpLogs(40));
      throw e;
    }
    asyncNode = c.nodes.find((n) => n !== primary && n !== syncNode)!;
    assert.notEqual(syncNode, primary);
    const guc = await primary.query<{ s: string }>("SELECT current_setting('synchronous_standby_names') AS s");
    assert.equal(guc[0]?.s, `"${syncNode.name}"`);
    const repl = await primary.query<{ application_name: string; sync_state: string }>('SELECT application_name, sync_state FROM pg_stat_replication');
    assert.equal(repl.find((r) => r.application_name === syncNode.name)?.sync_state, 'sync');
    await waitFor('health endpoints reflect /sync', async () =>
      (await syncNode.status('/synchronous')) === 200 && (await asyncNode.status('/asynchronous')) === 200, 10_000, 200);
    assert.equal(await syncNode.status('/asynchronous'), 503);
    assert.equal(await asyncNode.status('/synchronous'), 503);
    assert.equal(await primary.status('/synchronous'), 503);
  });

  test('ctl list shows the synchronous standby as "Sync Standby"', () => {
    assert.ok(syncNode, 'needs the previous test');
    const r = spawnSync(process.execPath, [CTL, ...c.ctlArgs(), 'list', '--format', 'json'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    assert.equal(rows.find((x) => x.Member === syncNode.name)?.Role, 'Sync Standby');
    assert.equal(rows.find((x) => x.Member === asyncNode.name)?.Role, 'Replica');
  });

  test('SIGKILL of the primary node: only the sync standby is promoted, no acknowledged write is lost', async () => {
    assert.ok(syncNode, 'needs the previous test');
    await Writer.prepare(primary);
    const w = new Writer(c, 20);
    w.start();
    let promoted: AgentNode;
    try {
      await waitFor('some writes acknowledged', () => w.acked.length >= 30, 15_000, 50);
      const t0 = performance.now();
      await primary.killNode();
      promoted = await waitFor('a new writable primary', async () => {
        for (const n of c.nodes) if (n !== primary && (await n.writable())) return n;
        return null;
      }, 45_000, 50);
      console.log(`measured: strict sync failover to a writable primary: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
      const before = w.acked.length;
      await waitFor('writes acknowledged on the new primary', () => w.acked.length >= before + 20, 30_000, 50);
    } finally {
      await w.stop();
    }
    assert.equal(promoted.name, syncNode.name, 'the synchronous standby is the one promoted');
    assert.equal(await asyncNode.writable(), false, 'the asynchronous replica stays read-only');
    assert.match(asyncNode.log(), /not a synchronous standby listed in \/sync/, 'the async replica explains why it did not race');
    assert.deepEqual(await w.missingOn(promoted), [], 'every acknowledged write is on the new primary');
    console.log(`measured: ${w.acked.length} writes acknowledged, longest write gap ${(w.maxGapMs / 1000).toFixed(2)} s`);
  });

  test('strict mode with the only sync standby killed: a write blocks instead of committing unprotected', async () => {
    const newPrimary = syncNode;
    await waitFor(`/sync naming ${asyncNode.name} under the new primary`, async () => {
      const s = await syncStandbys(newPrimary);
      return s.length === 1 && s[0] === asyncNode.name;
    }, 30_000, 200);
    assert.equal(await tryWrite(newPrimary, 1_000_001, 5000), 'committed', 'with its sync standby up the primary commits');
    await asyncNode.killNode();
    await sleep(500);
    assert.equal(await tryWrite(newPrimary, 1_000_002, 4000), 'blocked', 'no commit is acknowledged without a synchronous standby');
    const waiting = await newPrimary.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event = 'SyncRep'");
    assert.ok(Number(waiting[0]?.n) >= 1, 'the blocked commit waits for synchronous replication');
  });
});
