/**
 * The Raft adapter's lease renewal on the HA loop's read (issue 4: one round trip less per cycle):
 * getCluster({renewLease}) renews the lease with the read's leader confirmation, and the keep-alive
 * of touchMember right after is then skipped. A real single-node RaftNode over TCP on loopback.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RaftDcs } from '../../src/dcs/raft/adapter.js';
import type { KvClientOps, RangeOptions } from '../../src/raft/kv/index.js';
import type { RaftNode } from '../../src/raft/node.js';
import type { MemberData } from '../../src/dcs/types.js';
import { freePort } from '../support/ports.js';
import { RaftHarness } from '../raft/node-harness.js';

/** Passes every call to the node and records the ones that renew a lease. */
class Counting implements KvClientOps {
  keepalives = 0;
  txns = 0;
  renewingReads = 0;
  plainReads = 0;
  /** Holds every range answer back this long (a lazy read waits up to a heartbeat interval). */
  slowReadMs = 0;
  constructor(private readonly n: RaftNode) {}
  txn: KvClientOps['txn'] = (r) => { this.txns++; return this.n.txn(r); };
  range = (t: { readonly key: string } | { readonly prefix: string }, o: RangeOptions = {}) => {
    if (o.keepalive !== undefined) this.renewingReads++;
    else this.plainReads++;
    const answer = this.n.range(t, o);
    return this.slowReadMs > 0 ? answer.then(async (r) => { await sleep(this.slowReadMs); return r; }) : answer;
  };
  leaseGrant: KvClientOps['leaseGrant'] = (t) => this.n.leaseGrant(t);
  leaseKeepAlive: KvClientOps['leaseKeepAlive'] = (id) => { this.keepalives++; return this.n.leaseKeepAlive(id); };
  leaseRevoke: KvClientOps['leaseRevoke'] = (id) => this.n.leaseRevoke(id);
  watch: KvClientOps['watch'] = (a, p, t) => this.n.watch(a, p, t);
}

const member = (state: string): MemberData => ({ conn_url: 'postgres://127.0.0.1:5432/postgres', api_url: 'http://127.0.0.1:8008/patroni', state, role: 'replica', version: '0.1.0' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('raft adapter: the HA loop read renews the lease', () => {
  const h = new RaftHarness({ dirPrefix: 'raft-adapter-', jobsPrefix: '/jobs/', requestTimeoutMs: 2000 });
  let node: RaftNode;
  before(async () => {
    const id = `127.0.0.1:${await freePort()}`;
    await h.startNode(id, { voters: [id] });
    node = await h.leader();
  });
  after(() => h.cleanup());

  const open = (kv: Counting, name: string, scope = name) => new RaftDcs(kv, { namespace: '/service/', scope, member: name, ttlSeconds: 4, retryTimeoutMs: 2000 });

  test('a renewing read replaces the next keep-alive; a plain read never renews', async () => {
    const kv = new Counting(node);
    const dcs = open(kv, 'm1');
    await dcs.touchMember(member('running'));
    await sleep(1100); // past the adapter's 1 s reuse of a fresh confirmation
    const before = dcs.leaseConfirmedAt()!;
    await dcs.getCluster();
    assert.equal(kv.renewingReads, 0, 'getCluster() without renewLease asks for no renewal');
    assert.equal(dcs.leaseConfirmedAt(), before);
    const view = await dcs.getCluster({ renewLease: true });
    assert.equal(kv.renewingReads, 1);
    assert.ok(view.members.has('m1'));
    assert.ok(dcs.leaseConfirmedAt()! > before, 'the renewing read moved the confirmation forward');
    await dcs.touchMember(member('running'));
    assert.equal(kv.keepalives, 0, 'touchMember reused the renewal the read just confirmed');
    await sleep(1100);
    await dcs.touchMember(member('running'));
    assert.equal(kv.keepalives, 1, 'an older confirmation is renewed by touchMember as before');
    await dcs.close();
  });

  test('a renewal answered slowly (a lazy read) is reused from its answer, and the local deadline still counts from the request', async () => {
    const kv = new Counting(node);
    const dcs = open(kv, 'm3');
    await dcs.touchMember(member('running'));
    await sleep(1100);
    kv.slowReadMs = 1200;
    const asked = performance.now();
    await dcs.getCluster({ renewLease: true });
    kv.slowReadMs = 0;
    const confirmed = dcs.leaseConfirmedAt()!;
    assert.ok(confirmed >= asked && confirmed < asked + 100, `the confirmation is the request's time, not the answer's (${(confirmed - asked).toFixed(0)} ms after asking)`);
    await dcs.touchMember(member('running'));
    assert.equal(kv.keepalives, 0, 'the renewal answered a moment ago is not repeated, though it was asked over 1 s ago');
    assert.equal(dcs.leaseConfirmedAt(), confirmed);
    await dcs.close();
  });

  test('a renewing read that finds the lease gone drops it; the next touchMember takes a new lease and republishes', async () => {
    const kv = new Counting(node);
    const dcs = open(kv, 'm2');
    await dcs.touchMember(member('running'));
    const lease = (await node.range({ key: '/service/m2/members/m2' })).kvs[0]!.lease;
    assert.ok(lease > 0);
    await node.leaseRevoke(lease);
    await sleep(1100);
    const view = await dcs.getCluster({ renewLease: true });
    assert.equal(view.members.has('m2'), false, 'the revoke deleted the member key');
    assert.equal(dcs.leaseConfirmedAt(), null, 'the adapter no longer counts on the revoked lease');
    await dcs.touchMember(member('running'));
    const kvs = (await node.range({ key: '/service/m2/members/m2' })).kvs;
    assert.equal(kvs.length, 1, 'the member key is back');
    assert.notEqual(kvs[0]!.lease, lease, 'bound to a new lease');
    await dcs.close();
  });

  test('updateLeader right after a renewing read that saw the key ours asks nothing; otherwise it checks with the leader', async () => {
    const kv = new Counting(node);
    const dcs = open(kv, 'p1');
    const other = open(new Counting(node), 'p2', 'p1');
    await dcs.touchMember(member('running'));
    assert.equal(await dcs.attemptToAcquireLeader(), true);
    await sleep(1100);
    await dcs.getCluster({ renewLease: true });
    const txns = kv.txns;
    const keepalives = kv.keepalives;
    assert.equal(await dcs.updateLeader(), true);
    assert.deepEqual([kv.txns, kv.keepalives], [txns, keepalives], 'the read already confirmed both the lease and the key');
    assert.equal(await dcs.updateLeader(), true);
    assert.equal(kv.txns, txns + 1, 'the view is used once: a second refresh checks the key again');
    // Released and taken by another member: a read shows it, and the refresh says so.
    assert.equal(await dcs.deleteLeader(), true);
    assert.equal(await other.touchMember(member('running')), undefined);
    assert.equal(await other.attemptToAcquireLeader(), true);
    await sleep(1100);
    await dcs.getCluster({ renewLease: true });
    assert.equal(await dcs.updateLeader(), false, 'the key is p2\'s now');
    await dcs.close();
    await other.close();
  });

  test('our own release right after the read is not mistaken for holding the key', async () => {
    const kv = new Counting(node);
    const dcs = open(kv, 'q1');
    await dcs.touchMember(member('running'));
    assert.equal(await dcs.attemptToAcquireLeader(), true);
    await sleep(1100);
    await dcs.getCluster({ renewLease: true });
    assert.equal(await dcs.deleteLeader(), true);
    assert.equal(await dcs.updateLeader(), false, 'a released key is neither reported held nor re-created');
    await dcs.close();
  });
});
