/**
 * ctl in raft mode: a configuration with a raft: section and no etcd. `list` and `jobs` read through
 * the local agent's REST API (restapi.listen); `raft status|add|remove|transfer` call its raft
 * routes. The agent is the REST server over a fake backend with in-memory raft jobs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, type CtlIo } from '../../src/cli/ctl.js';
import { startApiServer, type ApiServer } from '../../src/api/server.js';
import { RaftFakeBackend } from '../raft/fake-raft-backend.js';
import { healthyCluster } from './views.js';

function captureIo(): CtlIo & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout, stderr, env: {}, interactive: false,
    out: (l) => stdout.push(l), err: (l) => stderr.push(l),
    prompt: async () => '', readStdin: async () => '', sleep: async () => undefined,
  };
}

describe('ctl with the built-in raft DCS', () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ctl-raft-'));
  process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
  const backend = new RaftFakeBackend();
  let server: ApiServer;
  let cfg = '';
  before(async () => {
    server = await startApiServer({ listen: '127.0.0.1:0', backend, auth: { username: 'admin', password: 'pw' } });
    backend.view = healthyCluster({ api_url: `http://127.0.0.1:${server.port}/patroni` });
    cfg = join(tmp, 'agent.yml');
    writeFileSync(cfg, [
      'scope: demo', 'name: node1',
      `restapi: {listen: "127.0.0.1:${server.port}", authentication: {username: admin, password: pw}}`,
      'raft: {self_addr: "127.0.0.1:59001", partner_addrs: ["127.0.0.1:59002"], data_dir: /tmp/none}',
    ].join('\n'));
  });
  after(async () => { await server.close(); rmSync(tmp, { recursive: true, force: true }); });
  const run = async (...argv: string[]) => {
    const io = captureIo();
    const code = await main(['-c', cfg, ...argv], io);
    return { code, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
  };

  test('list falls back to the local agent\'s REST API', async () => {
    const r = await run('list');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Cluster: demo \(/);
    assert.match(r.out, /\| a +\| 10\.0\.0\.1 +\| Leader +\|/);
    assert.match(r.out, /\| b +\| 10\.0\.0\.2 +\| Sync Standby \| streaming \|\s+3 \|\s+2 \|/, 'lag rebuilt from GET /cluster: 2 MB');
  });

  test('raft status shows term, leader, commit and the peers', async () => {
    const r = await run('raft', 'status');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /term 3, leader 127\.0\.0\.1:59001, commit index 12/);
    assert.match(r.out, /127\.0\.0\.1:59002 \| learner/);
    const j = await run('raft', 'status', '-f', 'json');
    assert.equal((JSON.parse(j.out) as { term: number }).term, 3);
  });

  test('raft add / remove / transfer submit jobs; --wait follows them; jobs lists them', async () => {
    const add = await run('raft', 'add', '127.0.0.1:59003');
    assert.equal(add.code, 0, add.err);
    assert.match(add.out, /^job r1 queued: add_peer \{"peer":"127\.0\.0\.1:59003"\}$/);
    backend.settleTo = 'succeeded';
    const rm = await run('raft', 'remove', '127.0.0.1:59003', '--wait');
    assert.equal(rm.code, 0, rm.err);
    assert.match(rm.out, /job r2 succeeded: remove_peer done/);
    backend.settleTo = 'failed';
    const tr = await run('raft', 'transfer', '127.0.0.1:59002', '--wait');
    assert.equal(tr.code, 1);
    assert.match(tr.err, /job r3 failed: transfer_leader done/);
    assert.deepEqual(backend.raftJobList.map((j) => j.params), [{ peer: '127.0.0.1:59003' }, { peer: '127.0.0.1:59003' }, { target: '127.0.0.1:59002' }]);
    const bad = await run('raft', 'add', 'nonsense');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /expected a Raft address "host:port", got "nonsense"/);
    const jobs = await run('jobs');
    assert.equal(jobs.code, 0, jobs.err);
    assert.match(jobs.out, /r1 .*add_peer .*queued/);
    const one = await run('jobs', 'r3', '-f', 'json');
    assert.equal((JSON.parse(one.out) as { state: string }).state, 'failed');
  });

  test('commands that need the DCS itself say so in raft mode', async () => {
    const r = await run('remove', 'demo', '--force');
    assert.equal(r.code, 1);
    assert.match(r.err, /raft mode/);
  });
});
