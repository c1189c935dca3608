import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseDcsUrl } from '../../src/cli/ctl/dcs-url.js';
import { lineDiff } from '../../src/cli/ctl/diff.js';
import { CtlError } from '../../src/cli/ctl/errors.js';
import { clusterTitle, listTable } from '../../src/cli/ctl/list-view.js';
import { apiBase } from '../../src/cli/ctl/rest.js';
import { applySet, diffAsPatch, mergePatch, parsePgSet, parseSet } from '../../src/cli/ctl/set-path.js';
import { parseFormat, renderTable } from '../../src/cli/ctl/table.js';
import { EMPTY_CLUSTER } from '../../src/dcs/types.js';
import { healthyCluster, member } from './views.js';

const usageError = (re: RegExp) => (e: unknown) => e instanceof CtlError && e.exitCode === 2 && re.test(e.message);

describe('--dcs-url', () => {
  test('schemes, default port, several hosts, namespace', () => {
    assert.deepEqual(parseDcsUrl('etcd3://127.0.0.1:2379'), { kind: 'etcd3', hosts: ['127.0.0.1:2379'] });
    assert.deepEqual(parseDcsUrl('etcd://db1/service'), { kind: 'etcd3', hosts: ['db1:2379'], namespace: '/service/' });
    assert.deepEqual(parseDcsUrl('h1:2379,h2:23790/ns/'), { kind: 'etcd3', hosts: ['h1:2379', 'h2:23790'], namespace: '/ns/' });
    assert.deepEqual(parseDcsUrl('etcd3://[::1]:2379'), { kind: 'etcd3', hosts: ['[::1]:2379'] });
  });
  test('unsupported or malformed URLs are usage errors naming the problem', () => {
    assert.throws(() => parseDcsUrl('consul://127.0.0.1:8500'), usageError(/Consul is not supported/));
    assert.throws(() => parseDcsUrl('redis://x:1'), usageError(/unknown scheme "redis"/));
    assert.throws(() => parseDcsUrl('etcd3://h:99999'), usageError(/port/));
    assert.throws(() => parseDcsUrl('etcd3://'), usageError(/empty host/));
  });
});

describe('--set / --pg', () => {
  test('paths and YAML values', () => {
    assert.deepEqual(parseSet('ttl=20'), { path: ['ttl'], value: 20 });
    assert.deepEqual(parseSet('postgresql.use_slots=false'), { path: ['postgresql', 'use_slots'], value: false });
    assert.deepEqual(parseSet('postgresql.parameters.pg_stat_statements.track=all'), { path: ['postgresql', 'parameters', 'pg_stat_statements.track'], value: 'all' });
    assert.deepEqual(parseSet('synchronous_mode=null'), { path: ['synchronous_mode'], value: null });
    assert.deepEqual(parseSet('tags.x='), { path: ['tags', 'x'], value: null });
    assert.deepEqual(parsePgSet('work_mem=8MB'), { path: ['postgresql', 'parameters', 'work_mem'], value: '8MB' });
    assert.throws(() => parseSet('ttl'), usageError(/expected key\.path=value/));
    assert.throws(() => parseSet('a..b=1'), usageError(/empty key/));
    assert.throws(() => parseSet('a=[1'), usageError(/not valid YAML/));
    assert.throws(() => parsePgSet('=1'), usageError(/expected parameter=value/));
  });
  test('applying: nested create, null deletes and prunes empty parents', () => {
    const base = { ttl: 30, postgresql: { parameters: { work_mem: '4MB' } } };
    assert.deepEqual(applySet(base, parseSet('postgresql.parameters.max_connections=200')), { ttl: 30, postgresql: { parameters: { work_mem: '4MB', max_connections: 200 } } });
    assert.deepEqual(applySet(base, parsePgSet('work_mem=null')), { ttl: 30 });
    assert.deepEqual(applySet(base, parseSet('standby_cluster.host=x')), { ...base, standby_cluster: { host: 'x' } });
    assert.deepEqual(base, { ttl: 30, postgresql: { parameters: { work_mem: '4MB' } } }, 'input untouched');
  });
  test('merge patch round trip: diffAsPatch(a, b) applied to a gives b', () => {
    const a = { ttl: 30, pause: true, postgresql: { parameters: { work_mem: '4MB', x: 1 } } };
    const b = { ttl: 20, postgresql: { parameters: { work_mem: '4MB', y: 2 } }, slots: { s: { type: 'physical' } } };
    const patch = diffAsPatch(a, b);
    assert.deepEqual(patch, { pause: null, ttl: 20, postgresql: { parameters: { x: null, y: 2 } }, slots: { s: { type: 'physical' } } });
    assert.deepEqual(mergePatch(a, patch), b);
    assert.deepEqual(diffAsPatch(a, a), {});
  });
});

describe('diff', () => {
  test('unified-style lines; empty when equal', () => {
    assert.deepEqual(lineDiff('a\nb\nc\n', 'a\nb\nc\n'), []);
    assert.deepEqual(lineDiff('a\nb\nc\n', 'a\nB\nc\nd\n'), ['--- before', '+++ after', ' a', '-b', '+B', ' c', '+d']);
  });
});

describe('list rendering', () => {
  test('title states the system id, uninitialized or initializing', () => {
    assert.equal(clusterTitle(healthyCluster(), 'demo'), ' Cluster: demo (7300000000000000042) ');
    assert.equal(clusterTitle(EMPTY_CLUSTER, 'demo'), ' Cluster: demo (uninitialized) ');
    assert.equal(clusterTitle({ ...EMPTY_CLUSTER, initialize: { value: '', version: '1' } }, 'demo'), ' Cluster: demo (initializing) ');
  });

  test('json: patronictl keys, title-cased roles, Lag in MB blank for the leader and "unknown" when unknown', () => {
    const rows = JSON.parse(renderTable(listTable(healthyCluster(), 'demo'), 'json')) as Array<Record<string, unknown>>;
    assert.deepEqual(rows, [
      { Cluster: 'demo', Member: 'a', Host: '10.0.0.1', Role: 'Leader', State: 'running', TL: 3 },
      { Cluster: 'demo', Member: 'b', Host: '10.0.0.2', Role: 'Sync Standby', State: 'streaming', TL: 3, 'Lag in MB': 2 },
      { Cluster: 'demo', Member: 'c', Host: '10.0.0.3', Role: 'Replica', State: 'starting', TL: 3, 'Lag in MB': 'unknown' },
    ]);
  });

  test('pretty: boxed table with the title in the top border; ports shown when hosts repeat', () => {
    const view = { ...healthyCluster(), members: new Map([['a', member('a', { role: 'master', timeline: 1 })], ['bb', member('bb', { xlog_location: 0 })]]), leader: { member: 'a', version: '1', session: null }, sync: null, status: { optime: 0 } };
    const text = renderTable(listTable(view, 'demo'), 'pretty');
    assert.equal(text, [
      '+ Cluster: demo (7300000000000000042) --------+---------+----+-----------+',
      '| Cluster | Member | Host           | Role    | State   | TL | Lag in MB |',
      '+---------+--------+----------------+---------+---------+----+-----------+',
      '| demo    | a      | 127.0.0.1:5432 | Leader  | running |  1 |           |',
      '| demo    | bb     | 127.0.0.1:5432 | Replica | running |    |         0 |',
      '+---------+--------+----------------+---------+---------+----+-----------+',
    ].join('\n'));
  });

  test('tsv and yaml; a standby leader; extended columns', () => {
    const tsv = renderTable(listTable(healthyCluster(), 'demo'), 'tsv').split('\n');
    assert.equal(tsv[0], 'Cluster\tMember\tHost\tRole\tState\tTL\tLag in MB');
    assert.equal(tsv[1], 'demo\ta\t10.0.0.1\tLeader\trunning\t3\t');
    const standby = { ...healthyCluster(), config: { value: { standby_cluster: { host: 'remote' } }, version: '1' } };
    assert.match(renderTable(listTable(standby, 'demo'), 'yaml'), /Role: Standby Leader/);
    const ext = listTable(healthyCluster({ pending_restart: true }), 'demo', { extended: true });
    assert.deepEqual(ext.columns.slice(7), ['Pending restart', 'Scheduled restart', 'Tags']);
    assert.equal(ext.rows[0]![7], '*');
  });

  test('topology indents members under their upstream (replicatefrom, else the leader)', () => {
    const v = healthyCluster();
    const members = new Map(v.members);
    members.set('d', member('d', { tags: { replicatefrom: 'b' } }));
    const rows = listTable({ ...v, members }, 'demo', { topology: true }).rows.map((r) => r[1]);
    assert.deepEqual(rows, ['a', '+ b', '  + d', '+ c']);
  });

  test('formats and api base URL', () => {
    assert.equal(parseFormat('YML'), 'yaml');
    assert.throws(() => parseFormat('xml'), usageError(/pretty, tsv, json or yaml/));
    assert.equal(apiBase('http://10.0.0.1:8008/patroni'), 'http://10.0.0.1:8008');
    assert.equal(apiBase('https://h:8008/'), 'https://h:8008');
  });
});
