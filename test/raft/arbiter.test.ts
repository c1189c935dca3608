/**
 * Arbiter mode: `orchestrator --raft-only CONFIG` as a real child process, plus two data-node
 * RaftNodes in this process. The three elect a leader; after one data node dies the survivor and the
 * arbiter still form a majority, elect (or keep) a leader and commit writes.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { arbiterSettings } from '../../src/raft/arbiter.js';
import { RaftNode } from '../../src/raft/node.js';
import { freePort, waitFor } from '../support/ports.js';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const CLI = join(import.meta.dirname, '../../src/cli/orchestrator.js');

async function getJson(port: number, path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2000) });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

describe('arbiter (--raft-only)', () => {
  const root = mkdtempSync(join(tmpdir(), 'raft-arbiter-'));
  const nodes: RaftNode[] = [];
  let child: ChildProcess | null = null;
  const killChild = () => { if (child?.pid && child.exitCode === null) { try { process.kill(child.pid, 'SIGKILL'); } catch { /* gone */ } } };
  process.on('exit', () => { killChild(); rmSync(root, { recursive: true, force: true }); });
  after(async () => {
    killChild();
    await Promise.all(nodes.map((n) => n.close()));
    rmSync(root, { recursive: true, force: true });
  });

  test('settings: the raft section is required and checked, naming the key', () => {
    assert.throws(() => arbiterSettings({ scope: 's' }), /^Error: raft: required/);
    assert.throws(() => arbiterSettings({ scope: 's', raft: { self_addr: 'nope', data_dir: '/x', partner_addrs: ['127.0.0.1:1'] } }), /raft peer "nope": expected "host:port"/);
    assert.throws(() => arbiterSettings({ scope: 's', raft: { self_addr: '127.0.0.1:2', data_dir: '/x' } }), /raft.partner_addrs/);
    const s = arbiterSettings({ scope: 's', raft: { self_addr: '127.0.0.1:2', data_dir: '/x', partner_addrs: '127.0.0.1:3, 127.0.0.1:4', 'node-timeout': '600ms' } });
    assert.deepEqual(s.partners, ['127.0.0.1:3', '127.0.0.1:4']);
    assert.equal(s.electionMs, 600);
  });

  test('an arbiter process and two data nodes elect a leader and survive losing a data node', async () => {
    const [pa, pb, parb, papi] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const [a, b, arb] = [pa, pb, parb].map((p) => `127.0.0.1:${p}`) as [string, string, string];
    const voters = [a, b, arb];
    const cfg = join(root, 'arbiter.yml');
    writeFileSync(cfg, [
      'scope: arb-test', 'name: arbiter',
      `restapi: {listen: "127.0.0.1:${papi}"}`,
      `raft: {self_addr: "${arb}", partner_addrs: ["${a}", "${b}"], data_dir: "${join(root, 'arb')}", node-timeout: 500ms, heartbeat-interval: 50ms}`,
    ].join('\n'));
    child = spawn(process.execPath, [CLI, '--raft-only', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
    for (const [id, port] of [[a, pa], [b, pb]] as const) {
      const n = new RaftNode({ id, listen: { host: '127.0.0.1', port }, voters, dataDir: join(root, String(port)), tickMs: 50, electionTicks: 10, heartbeatTicks: 1, requestTimeoutMs: 2000, reconnectBaseMs: 100, log: quiet });
      await n.start();
      nodes.push(n);
    }
    const health = await waitFor('the arbiter to see a leader', async () => {
      const h = await getJson(papi, '/health').catch(() => null);
      return h?.status === 200 ? h : null;
    }, 10_000, 50).catch((e: unknown) => { throw new Error(`${String(e)}\narbiter stderr: ${stderr}`); });
    assert.equal(health.body['state'], 'arbiter');
    const st = await getJson(papi, '/raft');
    assert.deepEqual((st.body['peers'] as Array<{ id: string }>).map((p) => p.id).sort(), [...voters].sort());

    // Kill the data node that leads (if the arbiter leads, kill either): the other two carry on.
    const leaderId = String(health.body['leader']);
    const victim = nodes.find((n) => n.id === leaderId) ?? nodes[0]!;
    const survivor = nodes.find((n) => n !== victim)!;
    await victim.close();
    nodes.splice(nodes.indexOf(victim), 1);
    await waitFor('a leader among the survivor and the arbiter', async () => {
      const r = await getJson(papi, '/raft').catch(() => null);
      const lead = r?.body['leader'];
      return lead === survivor.id || lead === arb;
    }, 10_000, 50);
    const w = await survivor.txn({ compare: [], success: [{ kind: 'put', key: '/after', value: 'kill' }], failure: [] });
    assert.notEqual(w.kind, 'error');
    assert.equal((await survivor.range({ key: '/after' })).kvs[0]?.value, 'kill');
  });
});
