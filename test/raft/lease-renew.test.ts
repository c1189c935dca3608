/**
 * Keep-alives and read-only transactions need no log entry: the leader confirms its leadership with
 * a read-index and answers (etcd does the same). Real RaftNodes in this process, TCP on loopback.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { RaftNode } from '../../src/raft/node.js';
import { freePort, waitFor } from '../support/ports.js';
import { RaftHarness } from './node-harness.js';

const lastIndex = (n: RaftNode): number => n.describe().last_index;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('raft keep-alives and read-only transactions without log entries (real nodes over TCP)', () => {
  const h = new RaftHarness({ dirPrefix: 'raft-renew-', jobsPrefix: '/jobs/', requestTimeoutMs: 2000 });
  let ids: string[] = [];
  let follower: RaftNode;
  let leader: RaftNode;
  before(async () => {
    ids = await Promise.all([freePort(), freePort(), freePort()]).then((ps) => ps.map((p) => `127.0.0.1:${p}`));
    await Promise.all(ids.map((id) => h.startNode(id, { voters: ids })));
    leader = await h.leader();
    follower = [...h.nodes.values()].find((n) => n !== leader)!;
  });
  after(() => h.cleanup());

  test('keep-alives sent through a follower hold a lease past its TTL without growing the log; unrenewed, it is revoked', async () => {
    // Election timeout here is 10 x 50 ms; the TTL must be at least 1.5 x that.
    const g = await follower.leaseGrant(2000);
    assert.equal(g.kind, 'leaseGrant');
    const id = (g as { id: number }).id;
    const put = await follower.txn({ compare: [], success: [{ kind: 'put', key: '/held', value: 'v', lease: id }], failure: [] });
    assert.equal(put.kind, 'txn');
    await waitFor('every node to apply the put', () => ids.every((i) => h.node(i).kv.get('/held') !== null), 5000, 20);
    const before = lastIndex(leader);
    for (let i = 0; i < 9; i++) { // 4.5 s: more than twice the TTL, with room for a slow test machine
      const k = await follower.leaseKeepAlive(id);
      assert.equal(k.found, true, `keep-alive ${i} found the lease`);
      assert.equal(k.ttlMs, 2000);
      await sleep(500);
    }
    assert.equal(lastIndex(leader), before, 'keep-alives appended nothing to the log');
    for (const i of ids) assert.notEqual(h.node(i).kv.get('/held'), null, `${i} still has the key`);
    // No more keep-alives: the leader's clock expires the lease and its revoke reaches every node.
    await waitFor('the revoke to reach every node', () => ids.every((i) => h.node(i).kv.get('/held') === null && h.node(i).kv.lease(id) === null), 8000, 20);
    assert.ok(lastIndex(leader) > before, 'the revoke is a log entry');
    assert.equal((await follower.leaseKeepAlive(id)).found, false, 'a revoked lease is not renewed');
  });

  test('a transaction that only compares and reads answers through a read-index, appending nothing', async () => {
    const w = await leader.txn({ compare: [], success: [{ kind: 'put', key: '/cfg', value: 'one' }], failure: [] });
    assert.equal(w.kind, 'txn');
    await waitFor('the follower to apply /cfg', () => follower.kv.get('/cfg')?.value === 'one', 5000, 20);
    const before = lastIndex(leader);
    const hit = await follower.txn({ compare: [{ key: '/cfg', target: 'value', op: '==', value: 'one' }], success: [{ kind: 'range', key: '/cfg' }], failure: [] });
    assert.ok(hit.kind === 'txn' && hit.succeeded, 'the compare holds');
    assert.equal(hit.kind === 'txn' && hit.responses[0]?.kind === 'range' ? hit.responses[0].kvs[0]?.value : null, 'one');
    const miss = await follower.txn({ compare: [{ key: '/cfg', target: 'value', op: '==', value: 'two' }], success: [], failure: [{ kind: 'range', key: '/nope' }] });
    assert.ok(miss.kind === 'txn' && !miss.succeeded, 'the compare fails');
    assert.deepEqual(miss.kind === 'txn' ? miss.responses : null, [{ kind: 'range', kvs: [] }]);
    assert.equal(lastIndex(leader), before, 'read-only transactions appended nothing');
    // Linearizable: a write acknowledged just before is seen by the next read-only transaction.
    await leader.txn({ compare: [], success: [{ kind: 'put', key: '/cfg', value: 'two' }], failure: [] });
    const after2 = await follower.txn({ compare: [{ key: '/cfg', target: 'value', op: '==', value: 'two' }], success: [], failure: [] });
    assert.ok(after2.kind === 'txn' && after2.succeeded, 'sees the write acknowledged before it');
  });

  test('a read asked to renew a lease holds it past its TTL through a follower; plain reads let it lapse', async () => {
    const grant = async () => {
      const g = await follower.leaseGrant(2000);
      assert.equal(g.kind, 'leaseGrant');
      return (g as { id: number }).id;
    };
    const renewed = await grant();
    const plain = await grant();
    await follower.txn({ compare: [], success: [{ kind: 'put', key: '/r/renewed', value: 'v', lease: renewed }, { kind: 'put', key: '/r/plain', value: 'v', lease: plain }], failure: [] });
    const before = lastIndex(leader);
    for (let i = 0; i < 9; i++) { // 4.5 s: more than twice the TTL
      const r = await follower.range({ prefix: '/r/' }, { keepalive: renewed });
      assert.equal(r.keepalive?.found, true, `read ${i} renewed the lease`);
      assert.equal(r.keepalive?.ttlMs, 2000);
      await follower.range({ prefix: '/r/' });
      await sleep(500);
    }
    const r = await follower.range({ prefix: '/r/' });
    assert.equal(r.keepalive, undefined, 'a read without the option renews nothing');
    assert.deepEqual(r.kvs.map((kv) => kv.key), ['/r/renewed'], 'the lease only read under expired with its key');
    assert.ok(lastIndex(leader) > before, 'the revoke of the unrenewed lease is a log entry');
    const gone = await leader.range({ key: '/r/renewed' }, { keepalive: plain });
    assert.equal(gone.keepalive?.found, false, 'a revoked lease is reported gone, through the leader too');
  });

  test('a lazy read through a follower sees a write acknowledged before it, within about a heartbeat interval', async () => {
    await leader.txn({ compare: [], success: [{ kind: 'put', key: '/lazy', value: 'first' }], failure: [] });
    await follower.txn({ compare: [], success: [{ kind: 'put', key: '/lazy', value: 'second' }], failure: [] });
    const t0 = performance.now();
    const r = await follower.range({ key: '/lazy' }, { lazy: true });
    assert.equal(r.kvs[0]?.value, 'second');
    assert.ok(performance.now() - t0 < 2000, `answered after ${(performance.now() - t0).toFixed(0)} ms`);
  });
});
