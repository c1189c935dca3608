/**
 * The keeper thread's small gRPC client (src/dcs/etcd3/keeper-grpc.ts): its hand-written protobuf
 * against known encodings, and its calls against a real etcd: renewals, a gone lease, a host that
 * never answers, and user/password auth.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { Etcd3 } from 'etcd3';
import {
  decodeFields, decodeKeepAliveResponse, encodeAuthenticateRequest, encodeKeepAliveRequest, grpcFrame, KeepAliveClient,
} from '../../src/dcs/etcd3/keeper-grpc.js';
import { EtcdServer } from '../support/etcd.js';
import { freePort } from '../support/ports.js';

describe('keeper protobuf', () => {
  test('a lease id is an int64 varint in field 1', () => {
    assert.deepEqual([...encodeKeepAliveRequest(1n)], [0x08, 0x01]);
    assert.deepEqual([...encodeKeepAliveRequest(300n)], [0x08, 0xac, 0x02]);
    // A typical etcd lease id, 63 bits wide, round-trips through the decoder.
    const id = 7587883398215720000n;
    const f = decodeFields(encodeKeepAliveRequest(id));
    assert.equal(f[0]?.n, 1);
    assert.equal(f[0]?.int, id);
  });

  test('the response decoder skips the header and reads ID and TTL, negative TTL included', () => {
    const header = [0x0a, 0x04, 0x08, 0x01, 0x10, 0x02]; // field 1, 4 bytes of nested message
    const ttlMinusOne = [0x18, ...Array(9).fill(0xff), 0x01];
    const buf = Buffer.from([...header, 0x10, 0xac, 0x02, ...ttlMinusOne]);
    assert.deepEqual(decodeKeepAliveResponse(buf), { id: 300n, ttl: -1n });
    assert.deepEqual(decodeKeepAliveResponse(Buffer.from([0x10, 0x05])), { id: 5n, ttl: 0n });
  });

  test('authenticate carries name and password as strings 1 and 2; frames are length-prefixed', () => {
    const f = decodeFields(encodeAuthenticateRequest('root', 'pw'));
    assert.deepEqual(f.map((x) => [x.n, x.bytes?.toString('utf8')]), [[1, 'root'], [2, 'pw']]);
    assert.deepEqual([...grpcFrame(Buffer.from([7, 8]))], [0, 0, 0, 0, 2, 7, 8]);
  });

  test('a truncated message is an error, not a wrong answer', () => {
    assert.throws(() => decodeFields(Buffer.from([0x0a, 0x05, 0x01])), /truncated/);
    assert.throws(() => decodeFields(Buffer.from([0x10, 0xff])), /varint/);
  });
});

describe('keeper client against etcd', () => {
  let etcd: EtcdServer;
  let admin: Etcd3;
  // A TCP server that accepts and never answers: a hung etcd.
  let silent: Server;
  const sockets = new Set<Socket>();
  let silentPort = 0;

  before(async () => {
    etcd = await EtcdServer.start();
    admin = new Etcd3({ hosts: `http://${etcd.endpoint}` });
    silentPort = await freePort();
    silent = createServer((s) => { sockets.add(s); s.on('error', () => undefined); });
    await new Promise<void>((r) => silent.listen(silentPort, '127.0.0.1', r));
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    silent?.close();
    admin?.close();
    await etcd?.destroy();
  });

  test('renews a live lease, and answers 0 once the lease is revoked', async () => {
    const lease = await admin.leaseClient.leaseGrant({ TTL: 30 });
    const c = new KeepAliveClient({ hosts: [etcd.endpoint] });
    try {
      assert.equal(await c.keepAlive(BigInt(lease.ID), 2000), 30);
      assert.equal(await c.keepAlive(BigInt(lease.ID), 2000), 30, 'a second call reuses the session');
      await admin.leaseClient.leaseRevoke({ ID: lease.ID });
      assert.equal(await c.keepAlive(BigInt(lease.ID), 2000), 0);
    } finally { c.close(); }
  });

  test('a host that never answers fails within the timeout; the next call uses the next host', async () => {
    const lease = await admin.leaseClient.leaseGrant({ TTL: 30 });
    const c = new KeepAliveClient({ hosts: [`127.0.0.1:${silentPort}`, etcd.endpoint] });
    try {
      const t0 = Date.now();
      await assert.rejects(c.keepAlive(BigInt(lease.ID), 300), /no answer within \d+ ms/);
      assert.ok(Date.now() - t0 < 1500, `took ${Date.now() - t0} ms`);
      assert.equal(await c.keepAlive(BigInt(lease.ID), 2000), 30);
    } finally { c.close(); }
  });

  test('with auth enabled it authenticates; a wrong password is refused', async () => {
    await admin.role('root').create();
    await admin.user('root').create('root-secret');
    await admin.user('root').addRole('root');
    await admin.auth.authEnable();
    const rootClient = new Etcd3({ hosts: `http://${etcd.endpoint}`, auth: { username: 'root', password: 'root-secret' } });
    try {
      const lease = await rootClient.leaseClient.leaseGrant({ TTL: 20 });
      const good = new KeepAliveClient({ hosts: [etcd.endpoint], username: 'root', password: 'root-secret' });
      const bad = new KeepAliveClient({ hosts: [etcd.endpoint], username: 'root', password: 'wrong' });
      try {
        assert.equal(await good.keepAlive(BigInt(lease.ID), 3000), 20);
        await assert.rejects(bad.keepAlive(BigInt(lease.ID), 3000), (e: Error) => !e.message.includes('wrong'));
      } finally { good.close(); bad.close(); }
    } finally {
      await rootClient.auth.authDisable().catch(() => undefined);
      rootClient.close();
    }
  });
});
