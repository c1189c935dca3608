/**
 * End to end: three real agents, real PostgreSQL 15, a real etcd, on loopback (test profile ttl 10,
 * loop_wait 2, retry_timeout 3). Scenarios run in order on one cluster, each leaving it healthy.
 * Timings are printed ("measured: ...") for the issue note; the bounds asserted are the issue's.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT, CTL, LocalCluster, type AgentNode } from '../support/cluster.js';
import { freePort, sleep, waitFor } from '../support/ports.js';
import { spawnManaged } from '../support/procs.js';
import { Writer } from '../support/writer.js';

const TTL = 10;
const LOOP_WAIT = 2;

function measured(what: string, ms: number): void {
  console.log(`measured: ${what}: ${(ms / 1000).toFixed(2)} s`);
}

/** Poll every 20 ms until some node other than `old` accepts writes; returns it and the delay. */
async function waitForNewWritable(c: LocalCluster, old: AgentNode | null, t0: number, timeoutMs: number): Promise<[AgentNode, number]> {
  const node = await waitFor('a new writable primary', async () => {
    for (const n of c.nodes) if (n !== old && (await n.writable())) return n;
    return null;
  }, timeoutMs, 20);
  return [node, performance.now() - t0];
}

describe('HA end to end (etcd, 3 agents)', { timeout: 600_000 }, () => {
  let c: LocalCluster;
  let primary: AgentNode;

  before(async () => {
    // Every node runs a callback script that appends "<action> <role> <scope>" to callbacks.log in its directory.
    c = await LocalCluster.create({
      nodes: 3, ttl: TTL, loopWait: LOOP_WAIT, retryTimeout: 3,
      postgresql: (_name, dir) => {
        const cmd = `/bin/sh -c 'echo "$1 $2 $3" >> ${join(dir, 'callbacks.log')}' callback`;
        return { callbacks: { on_start: cmd, on_stop: cmd, on_restart: cmd, on_reload: cmd, on_role_change: cmd } };
      },
    });
    c.startAll();
  });
  after(async () => {
    if (process.env.E2E_LOGS) console.log(c.dumpLogs(Number(process.env.E2E_LOGS) || 80));
    await c?.destroy();
  });

  const replicasOf = (p: AgentNode) => c.nodes.filter((n) => n !== p);
  const callbacks = (n: AgentNode) => { try { return readFileSync(join(c.root, n.name, 'callbacks.log'), 'utf8'); } catch { return ''; } };

  /** `ctl list --format json`, parsed (patronictl's keys). */
  function ctlList(): Array<Record<string, unknown>> {
    const r = spawnSync(process.execPath, [CTL, ...c.ctlArgs(), 'list', '--format', 'json'], { encoding: 'utf8', timeout: 20_000 });
    assert.equal(r.status, 0, `ctl list failed: ${r.stderr}`);
    return JSON.parse(r.stdout) as Array<Record<string, unknown>>;
  }
  const roleOf = (rows: Array<Record<string, unknown>>, name: string) => rows.find((r) => r.Member === name)?.Role;

  test('bootstrap: one primary, two streaming replicas, a row written on the primary is read on both', async () => {
    primary = await c.waitForHealthy(2);
    assert.equal((await c.writableNodes()).length, 1);
    await Writer.prepare(primary);
    await primary.query("INSERT INTO writes (id) VALUES (0)");
    for (const r of replicasOf(primary)) {
      await waitFor(`row on ${r.name}`, async () => (await r.query('SELECT id FROM writes WHERE id = 0')).length === 1, 10_000);
      assert.equal(await r.status('/replica'), 200);
      assert.equal(await r.status('/primary'), 503);
      assert.equal(await r.status('/health'), 200);
      assert.equal(await r.status('/read-only'), 200);
    }
    assert.equal(await primary.status('/primary'), 200);
    assert.equal(await primary.status('/leader'), 200);
    assert.equal(await primary.status('/replica'), 503);
    const st = (await primary.api('/patroni')).body as Record<string, unknown>;
    assert.equal(st.role, 'master');
    assert.equal(st.state, 'running');
    const decisions = (await primary.api('/history/decisions')).body as Array<{ reason: string }>;
    assert.ok(decisions.some((d) => /leader/.test(d.reason)), 'the decision log explains the leader');
    const rows = await waitFor('ctl list shows two streaming replicas', () => {
      const r = ctlList();
      return r.filter((x) => x.Role === 'Replica' && x.State === 'streaming').length === 2 ? r : null;
    }, 20_000, 500);
    assert.equal(rows.length, 3);
    assert.equal(roleOf(rows, primary.name), 'Leader');
    for (const row of rows) {
      assert.deepEqual(Object.keys(row).filter((k) => ['Cluster', 'Member', 'Host', 'Role', 'State', 'TL'].includes(k)).sort(), ['Cluster', 'Host', 'Member', 'Role', 'State', 'TL']);
      assert.equal(row.Cluster, c.scope);
    }
  });

  test('scheduled restart: runs at its time, shows in /patroni and the member record, one at a time, DELETE cancels', async () => {
    const r = replicasOf(primary)[0]!;
    const post = (body: unknown) => r.api('/restart', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const startedBefore = ((await r.api('/patroni')).body as { postmaster_start_time?: string }).postmaster_start_time;
    const at = new Date(Date.now() + 4000).toISOString();
    assert.equal((await post({ schedule: at })).status, 202);
    assert.equal((await post({ schedule: at })).status, 409, 'a second scheduled restart is refused');
    const st = (await r.api('/patroni')).body as { scheduled_restart?: { schedule?: string } };
    assert.equal(st.scheduled_restart?.schedule, at);
    await waitFor('the schedule in the member record (/cluster)', async () => {
      const m = ((await primary.api('/cluster')).body as { members: Array<{ name: string; scheduled_restart?: unknown }> }).members.find((x) => x.name === r.name);
      return m?.scheduled_restart !== undefined;
    }, 10_000);
    await waitFor('the restart to run', async () => {
      const b = (await r.api('/patroni').catch(() => ({ body: {} }))).body as { postmaster_start_time?: string; scheduled_restart?: unknown; state?: string };
      return b.state === 'running' && b.scheduled_restart === undefined && b.postmaster_start_time !== startedBefore;
    }, 30_000, 200);
    assert.ok(Date.now() >= Date.parse(at), 'not before its time');
    assert.equal((await post({ schedule: new Date(Date.now() + 3_600_000).toISOString() })).status, 202);
    assert.equal((await r.api('/restart', { method: 'DELETE' })).status, 200);
    assert.equal((await r.api('/restart', { method: 'DELETE' })).status, 404);
    await waitFor(`${r.name} streams again`, async () => (await r.status('/replica')) === 200, 30_000);
  });

  test('a second agent started with an existing member\'s name refuses to start and disturbs nothing', async () => {
    const twin = replicasOf(primary)[0]!;
    const cfg = JSON.parse(readFileSync(twin.configPath, 'utf8'));
    const rest = await freePort();
    const pgPort = await freePort();
    cfg.restapi = { listen: `127.0.0.1:${rest}`, connect_address: `127.0.0.1:${rest}` };
    cfg.postgresql.listen = cfg.postgresql.connect_address = `127.0.0.1:${pgPort}`;
    cfg.postgresql.data_dir = join(c.root, 'twin-data');
    const file = join(c.root, 'twin.yml');
    writeFileSync(file, JSON.stringify(cfg));
    const logFile = join(c.root, 'twin.log');
    const p = spawnManaged(process.execPath, [AGENT, file], { logFile });
    const t = setTimeout(() => p.signal('SIGKILL'), 30_000);
    const exit = await p.exited;
    clearTimeout(t);
    const out = readFileSync(logFile, 'utf8');
    assert.equal(exit.code, 1, out.slice(-2000));
    assert.match(out, new RegExp(`already a node named '${twin.name}' running`));
    assert.equal(existsSync(join(c.root, 'twin-data')), false, 'the twin must not create a data directory');
    const m = ((await primary.api('/cluster')).body as { members: Array<{ name: string; api_url?: string }> }).members.find((x) => x.name === twin.name);
    assert.equal(m?.api_url, `${twin.apiBase}/patroni`, 'the real member record is untouched');
    assert.equal(await twin.status('/replica'), 200);
  });

  test('switchover to a named candidate under a concurrent writer: no acknowledged write lost', async () => {
    const candidate = replicasOf(primary)[0]!;
    const w = new Writer(c, 20);
    w.start();
    await sleep(500);
    const t0 = performance.now();
    const r = await primary.api('/switchover', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ leader: primary.name, candidate: candidate.name }) });
    const callMs = performance.now() - t0;
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const [now, ms] = await waitForNewWritable(c, primary, t0, 30_000);
    measured('switchover: new primary writable', ms);
    measured('switchover: POST /switchover returned', callMs);
    assert.equal(now.name, candidate.name);
    await sleep(1000);
    await w.stop();
    measured('switchover: client-seen max write gap', w.maxGapMs);
    const old = primary;
    primary = candidate;
    await waitFor(`${old.name} streams from the new primary`, async () => (await old.status('/replica')) === 200, 60_000);
    await waitFor('every acknowledged write on the new primary', async () => (await w.missingOn(primary)).length === 0, 10_000)
      .catch(async () => assert.deepEqual(await w.missingOn(primary), []));
    assert.ok(w.acked.length > 20);
    // The old primary has them too once it streams.
    await waitFor('writes replicated to the old primary', async () => (await w.missingOn(old)).length === 0, 10_000);
    // Callbacks: both nodes were told their new role (Patroni's argv: action, role, scope).
    await waitFor('on_role_change callbacks', async () => callbacks(primary).includes('on_role_change master e2e\n') && callbacks(old).includes('on_role_change replica e2e\n'), 10_000)
      .catch(() => assert.fail(`callbacks: new primary ${JSON.stringify(callbacks(primary))}, old ${JSON.stringify(callbacks(old))}`));
    assert.match(callbacks(old), /^on_start master e2e\n/, 'the bootstrap primary\'s first callback is on_start master');
  });

  test('PostgreSQL crash on the primary with the agent alive: writes work again', async () => {
    const t0 = performance.now();
    assert.ok(primary.killPostgres(), 'postmaster killed');
    const node = await waitFor('writes on any node again', async () => {
      for (const n of c.nodes) if (await n.writable()) return n;
      return null;
    }, 60_000, 20);
    measured(`PostgreSQL crash: writable again (${node === primary ? 'restarted in place' : 'failed over'})`, performance.now() - t0);
    primary = node;
    await c.waitForReplicas(2, 60_000);
  });

  test('graceful stop (SIGTERM of the primary agent): a replica is writable within 5 s; the node rejoins as a replica', async () => {
    const old = primary;
    const t0 = performance.now();
    const stopping = old.stop();
    const [now, ms] = await waitForNewWritable(c, old, t0, 15_000);
    measured('graceful stop: new primary writable', ms);
    assert.ok(ms < 5000, `took ${ms} ms`);
    await stopping;
    primary = now;
    old.start();
    await waitFor(`${old.name} streams again`, async () => (await old.status('/replica')) === 200, 60_000);
  });

  test('node death (SIGKILL agent + postmaster): new writable primary within ttl + loop_wait + 5 s; the old node rejoins through pg_rewind', async () => {
    await primary.query('INSERT INTO writes (id) VALUES ($1)', [-1]);
    const victim = primary;
    // Make sure the row reached the replicas before the kill (the promise is about replicated data).
    for (const r of replicasOf(victim)) {
      await waitFor(`row replicated to ${r.name}`, async () => (await r.query('SELECT 1 FROM writes WHERE id = -1')).length === 1, 10_000)
        .catch(async (e: unknown) => {
          // Every node's view: the primary's walsenders and slots, each standby's receiver and replay point.
          for (const n of c.nodes) {
            const rx = await n.query(`SELECT pg_is_in_recovery() AS rec, pg_last_wal_receive_lsn()::text AS received, pg_last_wal_replay_lsn()::text AS replayed,
              (SELECT json_agg(json_build_object('status', status, 'tli', received_tli, 'flushed', flushed_lsn::text, 'port', sender_port, 'slot', slot_name)) FROM pg_stat_wal_receiver) AS receiver,
              (SELECT json_agg(json_build_object('app', application_name, 'state', state, 'sent', sent_lsn::text)) FROM pg_stat_replication) AS senders,
              (SELECT json_agg(json_build_object('slot', slot_name, 'active', active, 'restart', restart_lsn::text)) FROM pg_replication_slots) AS slots`).catch((q: unknown) => String(q));
            console.log(`${n.name}${n === victim ? ' (primary)' : ''}: ${JSON.stringify(rx)}`);
          }
          console.log(`${c.dumpLogs(60)}\n${c.dumpServerLogs(40)}`);
          throw e;
        });
    }
    const t0 = performance.now();
    await victim.killNode();
    const [now, ms] = await waitForNewWritable(c, victim, t0, (TTL + LOOP_WAIT + 5) * 1000 + 5000);
    measured('node death: new primary writable', ms);
    assert.ok(ms < (TTL + LOOP_WAIT + 5) * 1000, `took ${ms} ms`);
    assert.equal((await now.query('SELECT 1 FROM writes WHERE id = -1')).length, 1);
    primary = now;
    await waitFor('ctl list shows the new leader and no entry for the dead node', () => {
      const rows = ctlList();
      return roleOf(rows, now.name) === 'Leader' && roleOf(rows, victim.name) === undefined;
    }, (TTL + 5) * 1000, 500);
    // Restarting the old node must rejoin it as a replica (through pg_rewind when it diverged).
    const logBefore = victim.log().length;
    victim.start();
    await waitFor(`${victim.name} rejoins as a streaming replica`, async () => (await victim.status('/replica')) === 200, 90_000)
      .catch((e) => { console.log(c.dumpLogs(40)); throw e; });
    await primary.query('INSERT INTO writes (id) VALUES ($1)', [-2]);
    await waitFor('the rejoined node catches up', async () => (await victim.query('SELECT 1 FROM writes WHERE id = -2')).length === 1, 15_000);
    // When it rejoined through pg_rewind, the safety copy of its divergent WAL is reported over REST.
    if (/pg_rewind from .* succeeded/.test(victim.log().slice(logBefore))) {
      const st = (await victim.api('/patroni')).body as { diverged_wal?: Array<{ dir: string; rewoundFrom: string }> };
      assert.ok(st.diverged_wal?.length, 'diverged_wal reported in /patroni after a rewind');
      assert.equal(st.diverged_wal![0]!.rewoundFrom, now.name);
      assert.ok(existsSync(st.diverged_wal![0]!.dir), `${st.diverged_wal![0]!.dir} exists`);
    }
    await waitFor('ctl list shows the rejoined node streaming', () => {
      const row = ctlList().find((r) => r.Member === victim.name);
      return row?.Role === 'Replica' && row.State === 'streaming';
    }, 20_000, 500);
  });

  test('etcd stopped: the primary demotes to read-only within ttl; restarting etcd restores a primary', async () => {
    const t0 = performance.now();
    await c.etcd.stop();
    try {
      await waitFor('no writable node', async () => (await c.writableNodes()).length === 0, TTL * 1000 + 3000, 50);
      measured('etcd stopped: primary read-only after', performance.now() - t0);
      assert.ok(performance.now() - t0 <= TTL * 1000 + 1000);
      assert.equal(await primary.status('/primary'), 503);
    } finally {
      await c.etcd.restart();
    }
    const t1 = performance.now();
    primary = await c.waitForPrimary(60_000).catch((e: unknown) => { console.log(`${c.dumpLogs(60)}\n${c.dumpServerLogs(30)}`); throw e; });
    await waitFor('writable after etcd restart', async () => primary.writable(), 30_000);
    measured('etcd restarted: primary writable again after', performance.now() - t1);
    await c.waitForReplicas(2, 60_000);
  });

  test('a member tagged nofailover is never promoted, and its decision log says why', async () => {
    // Tag one replica nofailover via its config file, reload it, then kill the primary and the other replica.
    const [keep, other] = replicasOf(primary) as [AgentNode, AgentNode];
    const cfg = JSON.parse(readFileSync(keep.configPath, 'utf8'));
    cfg.tags = { nofailover: true };
    writeFileSync(keep.configPath, JSON.stringify(cfg));
    keep.proc!.child.kill('SIGHUP');
    await waitFor('tag published', async () => ((await keep.api('/patroni')).body as { tags?: { nofailover?: boolean } }).tags?.nofailover === true, 10_000);
    await other.killNode();
    await primary.killNode();
    await sleep((TTL + LOOP_WAIT + 3) * 1000);
    assert.equal(await keep.writable(), false, 'the nofailover member must not be promoted');
    const decisions = (await keep.api('/history/decisions')).body as Array<{ reason: string }>;
    assert.ok(decisions.some((d) => /nofailover|not allowed/.test(d.reason)), JSON.stringify(decisions.slice(-3)));
  });
});
