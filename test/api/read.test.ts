import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterSummary } from '../../src/api/cluster-json.js';
import { renderMetrics, versionNumber } from '../../src/api/metrics.js';
import { EMPTY_CLUSTER, type ClusterView, type Member, type MemberData } from '../../src/dcs/types.js';
import type { NodeStatus } from '../../src/api/backend.js';
import { send, startFake } from './client.js';
import { FakeBackend, REPLICA_FACTS } from './fake-backend.js';

function member(name: string, data: Partial<MemberData>): Member {
  return {
    name, version: '1', session: null,
    data: { conn_url: `postgres://repl@127.0.0.1:${5432 + name.length}/postgres`, api_url: `http://127.0.0.1:8008/patroni`, state: 'running', role: 'replica', version: '0.1.0', ...data },
  };
}

function threeNodes(): ClusterView {
  return {
    ...EMPTY_CLUSTER,
    initialize: { value: '7000000000000000001', version: '1' },
    config: { value: { ttl: 30, pause: true }, version: '2' },
    leader: { member: 'a', version: '3', session: 'l1' },
    members: new Map([
      ['c', member('ccc', { xlog_location: 1000, timeline: 2, tags: { nofailover: true } })],
      ['a', member('a', { role: 'master', xlog_location: 5000, timeline: 2 })],
      ['b', member('bb', { xlog_location: 4000, timeline: 2, replication_state: 'streaming' })],
      ['d', member('dddd', { state: 'stopped' })],
    ].map(([k, m]) => [k as string, { ...(m as Member), name: k as string }])),
    sync: { value: { leader: 'a', sync_standby: ['B'] }, version: '4' },
    history: { value: [[1, 100, 'no recovery target specified', '2024-01-01T00:00:00+00:00', 'a']], version: '5' },
    status: { optime: 5000 },
    failover: { value: { leader: 'a', member: 'b', scheduled_at: '2030-01-01T00:00:00+00:00' }, version: '6' },
  };
}

describe('cluster summary (/cluster format)', () => {
  test('roles, states, lag and order follow Patroni', () => {
    const s = clusterSummary(threeNodes(), 'demo');
    assert.deepEqual(s.members.map((m) => [m.name, m.role, m.state, m.lag]), [
      ['a', 'leader', 'running', undefined],
      ['b', 'sync_standby', 'streaming', 1000],
      ['c', 'replica', 'running', 4000],
      ['d', 'replica', 'stopped', 'unknown'],
    ]);
    assert.equal(s.members[0]!.host, '127.0.0.1');
    assert.equal(s.members[0]!.port, 5433);
    assert.equal(s.pause, true);
    assert.deepEqual(s.scheduled_switchover, { at: '2030-01-01T00:00:00+00:00', from: 'a', to: 'b' });
    assert.deepEqual(s.members[2]!.tags, { nofailover: true });
    assert.equal('lag' in s.members[0]!, false, 'no lag for the leader');
  });

  test('a standby cluster leader is standby_leader', () => {
    const v = { ...threeNodes(), config: { value: { standby_cluster: { host: 'remote' } }, version: '2' } };
    assert.equal(clusterSummary(v, 'demo').members[0]!.role, 'standby_leader');
  });
});

describe('informational endpoints', () => {
  test('/patroni always answers 200 with Patroni field names', async () => {
    const { backend, port } = await startFake();
    backend.facts = { ...REPLICA_FACTS, pgRunning: false };
    const r = await send(port, 'GET', '/patroni');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/json');
    const body = r.json() as Record<string, unknown>;
    for (const key of ['state', 'role', 'server_version', 'xlog', 'timeline', 'tags', 'dcs_last_seen', 'database_system_identifier', 'patroni']) {
      assert.ok(key in body, `field ${key}`);
    }
    assert.deepEqual(body['patroni'], { version: '0.1.0', scope: 'demo', name: 'node1' });
    assert.deepEqual(Object.keys(body['xlog'] as object).sort(), ['paused', 'received_location', 'replayed_location', 'replayed_timestamp']);
  });

  test('/patroni answers from a live probe when the backend has one; health checks keep the cached status', async () => {
    const { backend, port } = await startFake();
    backend.facts = REPLICA_FACTS;
    let probes = 0;
    (backend as { liveStatus?: () => Promise<NodeStatus> }).liveStatus = async () => {
      probes++;
      return { ...backend.status(), xlog: { received_location: 9999, replayed_location: 9000, replayed_timestamp: null, paused: false } };
    };
    const body = (await send(port, 'GET', '/patroni')).json() as { xlog: { received_location: number } };
    assert.equal(body.xlog.received_location, 9999);
    assert.equal(probes, 1);
    const health = (await send(port, 'GET', '/replica')).json() as { xlog: { received_location: number } };
    assert.equal(health.xlog.received_location, 1200, 'a load balancer check costs no query');
    assert.equal(probes, 1);
  });

  test('/cluster, /history, /failsafe, /config, /history/decisions and /jobs', async () => {
    const { backend, port } = await startFake();
    backend.view = threeNodes();
    const cluster = (await send(port, 'GET', '/cluster')).json() as { scope: string; members: Array<{ name: string; role: string }> };
    assert.equal(cluster.scope, 'demo');
    assert.deepEqual(cluster.members.map((m) => m.role), ['leader', 'sync_standby', 'replica', 'replica']);
    assert.deepEqual((await send(port, 'GET', '/history')).json(), [[1, 100, 'no recovery target specified', '2024-01-01T00:00:00+00:00', 'a']]);
    assert.equal((await send(port, 'GET', '/failsafe')).status, 502);
    backend.view = { ...EMPTY_CLUSTER };
    assert.deepEqual((await send(port, 'GET', '/history')).json(), []);
    assert.deepEqual((await send(port, 'GET', '/config')).json(), { ttl: 30, loop_wait: 10, retry_timeout: 10 });
    backend.decisionLog = [{ at: '2024-01-01T00:00:00.000Z', lastAt: '2024-01-01T00:01:00.000Z', reason: 'no action: I am the leader', actions: ['renew-lock' as never], count: 7 }];
    assert.deepEqual((await send(port, 'GET', '/history/decisions')).json(), backend.decisionLog);
    const job = { id: 'j1', kind: 'switchover', state: 'running' as const, message: '', created_at: 't', updated_at: 't' };
    backend.jobList = [job];
    assert.deepEqual((await send(port, 'GET', '/jobs')).json(), [job]);
    assert.deepEqual((await send(port, 'GET', '/jobs/j1')).json(), job);
    assert.equal((await send(port, 'GET', '/jobs/nope')).status, 404);
    assert.equal((await send(port, 'GET', '/jobs/%E0%A4%A')).status, 400);
  });

  test('/metrics is Prometheus text with Patroni names and {scope,name} labels', async () => {
    const { port } = await startFake();
    const r = await send(port, 'GET', '/metrics');
    assert.equal(r.status, 200);
    assert.match(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
    assert.match(r.text, /^patroni_primary\{scope="demo",name="node1"\} 1$/m);
    assert.match(r.text, /^patroni_replica\{scope="demo",name="node1"\} 0$/m);
    assert.match(r.text, /^patroni_xlog_location\{scope="demo",name="node1"\} 1234$/m);
    assert.match(r.text, /^# TYPE patroni_postgres_timeline counter$/m);
    assert.equal(versionNumber('3.3.1'), 30301);
  });

  test('a crashed primary holding the key is not reported as patroni_primary', () => {
    const b = new FakeBackend();
    b.facts = { ...b.facts, pgRunning: false };
    assert.match(renderMetrics(b.status(), b.facts), /^patroni_primary\{scope="demo",name="node1"\} 0$/m);
    assert.match(renderMetrics(b.status(), b.facts), /^patroni_postgres_running\{scope="demo",name="node1"\} 0$/m);
  });
});
