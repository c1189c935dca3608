/**
 * ctl's main(argv, io) run in-process: usage errors exit 2, and commands read a FakeDcs and talk
 * to a real REST server (src/api on loopback) backed by the API tests' FakeBackend.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main, type CtlIo } from '../../src/cli/ctl.js';
import { startApiServer, type ApiServer } from '../../src/api/server.js';
import type { ClusterView } from '../../src/dcs/types.js';
import { FakeBackend } from '../api/fake-backend.js';
import { FakeDcs, healthyCluster } from './views.js';

interface Captured extends CtlIo { readonly stdout: string[]; readonly stderr: string[] }

function captureIo(o: { interactive?: boolean; answers?: string[]; stdin?: string } = {}): Captured {
  const stdout: string[] = [];
  const stderr: string[] = [];
  const answers = [...(o.answers ?? [])];
  return {
    stdout, stderr, env: {}, interactive: o.interactive ?? false,
    out: (l) => stdout.push(l), err: (l) => stderr.push(l),
    prompt: async () => answers.shift() ?? '',
    readStdin: async () => o.stdin ?? '',
    sleep: async () => undefined,
  };
}

const tmp = mkdtempSync(join(tmpdir(), 'ctl-test-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));
after(() => rmSync(tmp, { recursive: true, force: true }));

let server: ApiServer;
let backend: FakeBackend;
before(async () => {
  backend = new FakeBackend();
  server = await startApiServer({ listen: '127.0.0.1:0', backend, auth: { username: 'admin', password: 'pw' } });
});
after(async () => server.close());

const configFile = join(tmp, 'ctl.yml');
writeFileSync(configFile, [
  'scope: demo', 'name: node1',
  'restapi: {listen: "127.0.0.1:8008", authentication: {username: admin, password: pw}}',
  'etcd3: {hosts: "127.0.0.1:2379"}',
  'postgresql:', '  listen: 127.0.0.1:5432', '  data_dir: /tmp/none',
  '  authentication: {superuser: {username: postgres, password: x}, replication: {username: rep, password: x}}',
].join('\n'));

/** The healthy cluster with every member's api_url pointing at the test server (or a dead port). */
/** A loopback port nothing listens on (bound, read, closed). */
async function freeDeadPort(): Promise<number> {
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

function view(apiPort = server.port): ClusterView {
  const v = healthyCluster({ api_url: `http://127.0.0.1:${apiPort}/patroni` });
  return v;
}

async function run(argv: string[], dcs = new FakeDcs(view()), io = captureIo()): Promise<{ code: number; io: Captured; dcs: FakeDcs }> {
  const code = await main(['-c', configFile, ...argv], io, { openDcs: () => dcs });
  return { code, io, dcs };
}

describe('ctl usage errors exit with 2', () => {
  const cases: Array<[string, string[], RegExp]> = [
    ['no arguments', [], /Usage: ctl/],
    ['unknown command', ['frobnicate'], /unknown command/],
    ['unknown option', ['list', '--colour'], /unknown option/],
    ['bad format', ['list', '-f', 'xml'], /pretty, tsv, json or yaml/],
    ['bad watch interval', ['list', '-w', 'soon'], /seconds/],
    ['missing reinit member', ['reinit'], /missing required argument/],
    ['no cluster given', ['list'], /use -c\/--config-file FILE, or --dcs-url/],
    ['--dcs-url without --scope', ['--dcs-url', 'etcd3://127.0.0.1:2379', 'list'], /--scope is required/],
    ['unsupported DCS', ['--dcs-url', 'consul://127.0.0.1:8500', '--scope', 'demo', 'list'], /Consul is not supported/],
  ];
  for (const [what, argv, message] of cases) {
    test(what, async () => {
      const io = captureIo();
      assert.equal(await main(argv, io, { openDcs: () => new FakeDcs(view()) }), 2);
      assert.match(io.stderr.join('\n'), message);
    });
  }

  test('confirmations without a terminal need --force (exit 2, nothing sent)', async () => {
    backend.calls.length = 0;
    for (const argv of [['switchover', '--candidate', 'b'], ['failover', '--candidate', 'b'], ['restart'], ['reinit', 'c'], ['edit-config', '-s', 'ttl=20'], ['remove', 'demo']]) {
      const dcs = new FakeDcs({ ...view(), leader: argv[0] === 'remove' ? null : view().leader });
      const r = await run(argv, dcs);
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.io.stderr.join('\n'), /use --force/, argv.join(' '));
    }
    assert.equal(backend.calls.length, 0);
    assert.equal((await run(['failover'])).code, 2, 'failover without --candidate');
    assert.equal((await run(['edit-config'])).code, 2, 'edit-config with nothing to change and no terminal');
    assert.equal((await run(['remove', 'other', '--force'])).code, 2, 'remove of another cluster');
  });
});

describe('ctl commands', () => {
  test('list -f json via --dcs-url prints patronictl keys and closes the DCS', async () => {
    const dcs = new FakeDcs(view());
    const io = captureIo();
    const code = await main(['--dcs-url', 'etcd3://127.0.0.1:2379/service', '--scope', 'demo', 'list', '-f', 'json'], io, { openDcs: (c) => {
      assert.equal(c.namespace, '/service/');
      assert.deepEqual(c.etcd3?.hosts, ['127.0.0.1:2379']);
      return dcs;
    } });
    assert.equal(code, 0, io.stderr.join('\n'));
    const rows = JSON.parse(io.stdout.join('\n')) as Array<Record<string, unknown>>;
    assert.deepEqual(rows.map((r) => [r['Member'], r['Role'], r['Lag in MB']]), [['a', 'Leader', undefined], ['b', 'Sync Standby', 2], ['c', 'Replica', 'unknown']]);
    assert.deepEqual(Object.keys(rows[1]!), ['Cluster', 'Member', 'Host', 'Role', 'State', 'TL', 'Lag in MB']);
    assert.equal(dcs.closed, 1);
  });

  test('list (pretty) shows the title and the maintenance footer; history; show-config', async () => {
    const v = view();
    const paused = { ...v, config: { value: { ...v.config!.value, pause: true }, version: '9' } };
    const r = await run(['list'], new FakeDcs(paused));
    assert.equal(r.code, 0);
    assert.match(r.io.stdout[0]!, /^\+ Cluster: demo \(7300000000000000042\) -/);
    assert.equal(r.io.stdout.at(-1), ' Maintenance mode: on');
    const h = await run(['history', '-f', 'json']);
    assert.deepEqual(JSON.parse(h.io.stdout.join('')), [
      { TL: 1, LSN: 83886240, Reason: 'no recovery target specified', Timestamp: '2024-05-01T10:00:00+00:00', 'New Leader': 'a' },
      { TL: 2, LSN: 100663456, Reason: 'no recovery target specified' },
    ]);
    const sc = await run(['show-config']);
    assert.match(sc.io.stdout.join('\n'), /^ttl: 30$/m);
  });

  test('switchover --force posts to the leader with the config file credentials', async () => {
    backend.calls.length = 0;
    backend.adminResult = { status: 200, body: 'Successfully switched over to "b"' };
    const r = await run(['switchover', '--candidate', 'b', '--force']);
    assert.equal(r.code, 0, r.io.stderr.join('\n'));
    assert.deepEqual(r.io.stdout, ['Successfully switched over to "b"']);
    assert.deepEqual(backend.calls, [{ op: 'switchover', arg: { leader: 'a', member: 'b' } }]);
    const wrongLeader = await run(['switchover', '--leader', 'b', '--force']);
    assert.equal(wrongLeader.code, 1);
    assert.match(wrongLeader.io.stderr.join(''), /Member b is not the leader of cluster demo/);
    backend.adminResult = { status: 412, body: 'candidate does not exists' };
    const refused = await run(['switchover', '--candidate', 'c', '--force']);
    assert.equal(refused.code, 1);
    assert.match(refused.io.stderr.join(''), /HTTP 412.*candidate does not exists/);
    const noLeader = await run(['switchover', '--force'], new FakeDcs({ ...view(), leader: null }));
    assert.match(noLeader.io.stderr.join(''), /This cluster has no leader/);
  });

  test('switchover/failover fall back to the DCS failover key when the member cannot be reached', async () => {
    const dead = await freeDeadPort();
    const dcs = new FakeDcs(view(dead));
    const r = await run(['switchover', '--candidate', 'b', '--force'], dcs);
    assert.equal(r.code, 0, r.io.stderr.join('\n'));
    assert.match(r.io.stderr.join(''), new RegExp(`cannot reach member a at http://127.0.0.1:${dead}.*falling back to the DCS`));
    assert.match(r.io.stdout.join(''), /Switchover request written to the DCS/);
    assert.deepEqual(dcs.failoverWrites, [{ value: { leader: 'a', member: 'b' }, expect: null }]);
    const f = await run(['failover', '--candidate', 'c', '--force'], dcs);
    assert.equal(f.code, 0, f.io.stderr.join('\n'));
    assert.deepEqual(dcs.failoverWrites[1], { value: { member: 'c' }, expect: null });
    // A request already pending (the key changed since ctl read it): CAS refuses, ctl says so.
    const racing = new FakeDcs(view(dead));
    const origGet = racing.getCluster.bind(racing);
    racing.getCluster = async () => { const v = await origGet(); racing.view = { ...v, failover: { value: { member: 'c' }, version: '8' } }; return v; };
    const lost = await run(['switchover', '--candidate', 'b', '--force'], racing);
    assert.equal(lost.code, 1);
    assert.match(lost.io.stderr.join(''), /request not written: the failover key changed meanwhile/);
    // An HTTP error from a reachable member is reported as is: no fallback.
    backend.adminResult = { status: 503, body: 'busy' };
    const httpErr = await run(['switchover', '--candidate', 'b', '--force']);
    assert.equal(httpErr.code, 1);
    assert.match(httpErr.io.stderr.join(''), /HTTP 503/);
  });

  test('a prompt answered "y" on a terminal proceeds; anything else aborts with exit 1', async () => {
    backend.calls.length = 0;
    backend.adminResult = { status: 200, body: 'ok' };
    assert.equal((await run(['reload', 'b'], undefined, captureIo({ interactive: true, answers: ['y'] }))).code, 0);
    assert.equal((await run(['reload', 'b'], undefined, captureIo({ interactive: true, answers: ['n'] }))).code, 1);
    assert.deepEqual(backend.calls.map((c) => c.op), ['reload']);
  });

  test('restart with a role filter and --pending; a failing member makes the exit code 1', async () => {
    backend.calls.length = 0;
    backend.adminResult = { status: 200, body: 'restarted successfully' };
    const r = await run(['restart', '-r', 'replica', '--pending', '--force']);
    assert.equal(r.code, 0, r.io.stderr.join('\n'));
    assert.deepEqual(r.io.stdout, ['Success: restart on member b', 'Success: restart on member c']);
    assert.deepEqual(backend.calls.map((c) => c.arg), [{ restart_pending: true }, { restart_pending: true }]);
    backend.adminResult = { status: 503, body: 'restart conditions are not satisfied' };
    const failed = await run(['restart', 'a', '--force']);
    assert.equal(failed.code, 1);
    assert.match(failed.io.stderr.join('\n'), /Failed: restart on member a, status code=503/);
    assert.equal((await run(['restart', 'zz', '--force'])).code, 1, 'unknown member');
  });

  test('edit-config: diff, PATCH through a member, "Not changed", refused shell commands', async () => {
    backend.calls.length = 0;
    backend.config = { value: { ttl: 30, loop_wait: 10, retry_timeout: 10, postgresql: { parameters: { work_mem: '4MB' } } }, version: '9' };
    const r = await run(['edit-config', '-s', 'ttl=40', '-p', 'work_mem=8MB', '--force']);
    assert.equal(r.code, 0, r.io.stderr.join('\n'));
    assert.ok(r.io.stdout.includes('-ttl: 30') && r.io.stdout.includes('+ttl: 40'), r.io.stdout.join('\n'));
    assert.equal(r.io.stdout.at(-1), 'Configuration changed');
    assert.deepEqual(backend.config?.value, { ttl: 40, loop_wait: 10, retry_timeout: 10, postgresql: { parameters: { work_mem: '8MB' } } });
    assert.deepEqual((await run(['edit-config', '-s', 'ttl=30', '--force'])).io.stdout, ['Not changed']);
    const shell = await run(['edit-config', '-p', 'archive_command=cp %p /x', '--force']);
    assert.equal(shell.code, 1);
    assert.match(shell.io.stderr.join(''), /archive_command: runs a shell command.*local YAML/);
  });

  test('edit-config --apply from stdin; direct CAS write to the DCS when no member answers', async () => {
    const dead = new FakeDcs(view(1)); // port 1: nothing listens
    const r = await run(['edit-config', '--apply', '-', '--force', '-q'], dead, captureIo({ stdin: 'loop_wait: 5\nttl: null\n' }));
    assert.equal(r.code, 0, r.io.stderr.join('\n'));
    assert.deepEqual(dead.configWrites, [{ value: { loop_wait: 5, retry_timeout: 10, postgresql: { parameters: { work_mem: '4MB' } } }, expect: '9' }]);
    assert.match(r.io.stderr.join(''), /wrote the configuration directly to the DCS/);
  });

  test('pause and resume PATCH the config; pausing twice is an error', async () => {
    backend.config = { value: { ttl: 30, loop_wait: 10, retry_timeout: 10 }, version: '9' };
    const r = await run(['pause']);
    assert.equal(r.code, 0, r.io.stderr.join('\n'));
    assert.deepEqual(r.io.stdout, ['Success: cluster management is paused']);
    assert.equal(backend.config?.value['pause'], true);
    const v = view();
    const paused = new FakeDcs({ ...v, config: { value: { ...v.config!.value, pause: true }, version: '9' } });
    assert.match((await run(['pause'], paused)).io.stderr.join(''), /already paused/);
    assert.equal((await run(['resume'], paused)).code, 0);
    assert.equal(backend.config?.value['pause'], undefined);
    assert.match((await run(['resume'])).io.stderr.join(''), /Cluster is not paused/);
  });

  test('remove refuses while a leader exists unless --force; asks for the name on a terminal', async () => {
    const withLeader = await run(['remove', 'demo', '--force'].slice(0, 2));
    assert.equal(withLeader.code, 1);
    assert.match(withLeader.io.stderr.join(''), /has a running leader \(a\)/);
    const noLeader = new FakeDcs({ ...view(), leader: null });
    assert.equal((await run(['remove', 'demo'], noLeader, captureIo({ interactive: true, answers: ['wrong'] }))).code, 1);
    assert.equal(noLeader.deleted, 0);
    assert.equal((await run(['remove', 'demo'], noLeader, captureIo({ interactive: true, answers: ['demo'] }))).code, 0);
    const forced = await run(['remove', 'demo', '--force']);
    assert.equal(forced.code, 0);
    assert.equal(noLeader.deleted + forced.dcs.deleted, 2);
  });

  test('decisions and jobs come from a member over REST', async () => {
    backend.decisionLog = [{ at: '2024-01-01T00:00:00.000Z', lastAt: '2024-01-01T00:05:00.000Z', reason: 'no action: I am the leader', actions: [], count: 31 }];
    const d = await run(['decisions', 'b', '-f', 'tsv']);
    assert.equal(d.code, 0, d.io.stderr.join('\n'));
    assert.deepEqual(d.io.stdout.join('\n').split('\n'), ['Since\tLast seen\tCount\tReason\tActions', '2024-01-01T00:00:00.000Z\t2024-01-01T00:05:00.000Z\t31\tno action: I am the leader\t']);
    backend.jobList = [{ id: 'j-1', kind: 'switchover', state: 'succeeded', message: 'done', created_at: 't0', updated_at: 't1' }];
    const j = await run(['jobs', '-f', 'json']);
    assert.deepEqual(JSON.parse(j.io.stdout.join('')), backend.jobList);
    const one = await run(['jobs', 'nope']);
    assert.equal(one.code, 1);
    assert.match(one.io.stderr.join(''), /404/);
  });

  test('a full agent config works too; without credentials a mutating call gets 401 and exit 1', async () => {
    const full = join(tmp, 'agent.yml');
    writeFileSync(full, [
      'scope: demo', 'name: node1', 'namespace: /svc',
      'restapi: {listen: "127.0.0.1:8008", connect_address: "127.0.0.1:8008", authentication: {username: admin, password: pw}}',
      'etcd3: {hosts: "127.0.0.1:2379"}',
      'postgresql:', '  listen: 127.0.0.1:5432', '  connect_address: 127.0.0.1:5432', '  data_dir: /tmp/none',
      '  authentication: {superuser: {username: postgres, password: x}, replication: {username: rep, password: x}}',
    ].join('\n'));
    backend.adminResult = { status: 200, body: 'ok' };
    let seen: string | undefined;
    const io = captureIo();
    assert.equal(await main(['-c', full, 'reload', 'a', '--force'], io, { openDcs: (c) => { seen = c.namespace; return new FakeDcs(view()); } }), 0, io.stderr.join('\n'));
    assert.equal(seen, '/svc/');
    const bare = join(tmp, 'bare.yml');
    writeFileSync(bare, 'scope: demo\netcd3: {hosts: "127.0.0.1:2379"}\n');
    const io2 = captureIo();
    assert.equal(await main(['-c', bare, 'reload', 'a', '--force'], io2, { openDcs: () => new FakeDcs(view()) }), 1);
    assert.match(io2.stderr.join('\n'), /status code=401/);
  });

  test('patronictl-style cluster arguments: accepted when they name the scope, usage error otherwise', async () => {
    assert.equal((await run(['list', 'demo', '-f', 'json'])).code, 0);
    const other = await run(['list', 'other']);
    assert.equal(other.code, 2);
    assert.match(other.io.stderr.join(''), /cluster "other" is not the configured cluster "demo"/);
    backend.calls.length = 0;
    backend.adminResult = { status: 200, body: 'ok' };
    const r = await run(['restart', 'demo', 'b', '--force']);
    assert.deepEqual(r.io.stdout, ['Success: restart on member b']);
  });

  test('version needs no cluster', async () => {
    const io = captureIo();
    assert.equal(await main(['version'], io), 0);
    assert.match(io.stdout[0]!, /^ctl version \d+\.\d+\.\d+/);
  });
});
