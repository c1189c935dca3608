/**
 * The raft REST routes and cluster_mgr's POST /HttpService/Emit, against a fake backend that keeps
 * raft jobs in memory: the seed's request bodies, the answers' shapes, 400s naming the field, the
 * auth guard on mutating routes, and GET /jobs merging the agent's jobs with the raft jobs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Job } from '../../src/api/backend.js';
import { startApiServer, type ApiServer } from '../../src/api/server.js';
import { basic, send } from '../api/client.js';
import { RaftFakeBackend } from './fake-raft-backend.js';

/** The seed's request bodies (cluster_mgr documentation, section 3). */
const seed = (paras: Record<string, unknown>, jobType = 'raft_mission', jobId = '') =>
  ({ version: '1.0', job_id: jobId, job_type: jobType, timestamp: '1435749309', user_name: 'kunlun_test', paras });

describe('raft routes and /HttpService/Emit', () => {
  const backend = new RaftFakeBackend();
  let server: ApiServer;
  let port = 0;
  const auth = basic('admin', 's3cret');
  before(async () => {
    server = await startApiServer({ listen: '127.0.0.1:0', backend, auth: { username: 'admin', password: 's3cret' } });
    port = server.port;
  });
  after(() => server.close());
  const emit = (body: unknown) => send(port, 'POST', '/HttpService/Emit', { body, headers: auth });

  test('raft_mission for each task answers with a job id; get_status follows the job', async () => {
    const bodies = [
      seed({ task_type: 'transfer_leader', target_leader: '127.0.0.1:59001' }),
      seed({ task_type: 'add_peer', peer: '127.0.0.2:59001' }),
      seed({ task_type: 'remove_peer', peer: '127.0.0.2:59001' }),
    ];
    const ids: string[] = [];
    for (const body of bodies) {
      const r = await emit(body);
      assert.equal(r.status, 200, r.text);
      const j = r.json() as Record<string, unknown>;
      assert.equal(j['error_code'], '0');
      assert.equal(j['status'], 'accept');
      assert.equal(j['version'], '1.0');
      assert.equal(typeof j['job_id'], 'string');
      ids.push(j['job_id'] as string);
    }
    assert.deepEqual(backend.raftJobList.map((j) => [j.kind, j.params]), [
      ['transfer_leader', { target: '127.0.0.1:59001' }], ['add_peer', { peer: '127.0.0.2:59001' }], ['remove_peer', { peer: '127.0.0.2:59001' }],
    ]);
    const status = async (id: string) => (await emit(seed({}, 'get_status', id))).json() as Record<string, unknown>;
    assert.equal((await status(ids[0]!))['status'], 'ongoing');
    backend.settle(ids[0]!, 'succeeded', '127.0.0.1:59001 is the leader');
    const done = await status(ids[0]!);
    assert.equal(done['status'], 'done');
    assert.equal(done['job_type'], 'transfer_leader');
    assert.equal((done['attachment'] as Job).message, '127.0.0.1:59001 is the leader');
    backend.settle(ids[1]!, 'failed', 'not finished within 30 s');
    const failed = await status(ids[1]!);
    assert.equal(failed['status'], 'failed');
    assert.equal(failed['error_info'], 'not finished within 30 s');
    assert.equal((await emit(seed({}, 'get_status', 'nope'))).status, 404);
  });

  test('bad Emit bodies are 400 naming the field', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{ ...seed({ task_type: 'add_peer', peer: '127.0.0.1:1' }), job_type: undefined }, /"job_type"/],
      [seed({ task_type: 'add_peer', peer: '127.0.0.1:1' }, 'install_cluster'), /"job_type": expected one of raft_mission, get_status/],
      [seed({ task_type: 'split_brain' }), /"paras.task_type": expected one of transfer_leader, add_peer, remove_peer/],
      [seed({ task_type: 'add_peer' }), /paras.peer": expected a Raft address/],
      [seed({ task_type: 'transfer_leader', target_leader: 'host-without-port' }), /paras.target_leader": expected a Raft address "host:port", got "host-without-port"/],
      [seed({}, 'get_status', ''), /"job_id"/],
      [{ ...seed({ task_type: 'add_peer', peer: '127.0.0.1:1' }), jobtype: 'x' }, /unknown field "jobtype"/],
      [{ ...seed({}), paras: 'x' }, /"paras": expected an object/],
      [[1, 2], /expected a JSON object/],
    ];
    for (const [body, re] of cases) {
      const r = await emit(body);
      assert.equal(r.status, 400, `${JSON.stringify(body)} -> ${r.status} ${r.text}`);
      assert.match((r.json() as { error: string }).error, re);
    }
  });

  test('REST routes: peers, transfer-leader, jobs; mutating routes need credentials', async () => {
    assert.equal((await send(port, 'GET', '/raft')).status, 200, 'GET needs no credentials');
    assert.equal((await send(port, 'POST', '/raft/peers', { body: { peer: '127.0.0.3:1' } })).status, 401);
    assert.equal((await send(port, 'POST', '/HttpService/Emit', { body: seed({}, 'get_status', 'r1') })).status, 401);
    const added = await send(port, 'POST', '/raft/peers', { body: { peer: '127.0.0.3:1' }, headers: auth });
    assert.equal(added.status, 202);
    assert.equal((added.json() as Job).kind, 'add_peer');
    const removed = await send(port, 'DELETE', '/raft/peers/127.0.0.3%3A1', { headers: auth });
    assert.equal(removed.status, 202);
    assert.deepEqual((removed.json() as Job).params, { peer: '127.0.0.3:1' });
    const moved = await send(port, 'POST', '/raft/transfer-leader', { body: { target: '127.0.0.1:59001' }, headers: auth });
    assert.equal(moved.status, 202);
    assert.equal((await send(port, 'POST', '/raft/transfer-leader', { body: { leader: 'x' }, headers: auth })).status, 400);
    assert.equal((await send(port, 'DELETE', '/raft/peers/not-an-address', { headers: auth })).status, 400);

    backend.jobList.push({ id: 'sw1', kind: 'switchover', state: 'succeeded', message: 'ok', created_at: '2029-01-01T00:00:00.000Z', updated_at: '2029-01-01T00:00:00.000Z' });
    const all = (await send(port, 'GET', '/jobs')).json() as Job[];
    assert.equal(all[0]!.id, 'sw1', 'merged, oldest first');
    assert.equal(all.length, 1 + backend.raftJobList.length);
    assert.equal(((await send(port, 'GET', '/jobs/r4')).json() as Job).kind, 'add_peer');
    assert.equal(((await send(port, 'GET', '/jobs/sw1')).json() as Job).kind, 'switchover');
    assert.equal((await send(port, 'GET', '/jobs/none')).status, 404);
  });

  test('without the raft DCS: GET /raft and submissions are 404', async () => {
    backend.raftOn = false;
    try {
      assert.equal((await send(port, 'GET', '/raft')).status, 404);
      const r = await send(port, 'POST', '/raft/peers', { body: { peer: '127.0.0.3:1' }, headers: auth });
      assert.equal(r.status, 404);
      assert.match((r.json() as { error: string }).error, /built-in raft DCS/);
    } finally {
      backend.raftOn = true;
    }
  });
});
