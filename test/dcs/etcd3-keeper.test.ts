/**
 * The lease keeper thread renews the lease while the agent's event loop is blocked, and stops
 * renewing when the agent stays silent (a hung agent must not keep the leader key forever).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { Etcd3Dcs } from '../../src/dcs/etcd3/adapter.js';
import { EtcdServer } from '../support/etcd.js';
import { sleep, waitFor } from '../support/ports.js';

let etcd: EtcdServer;
before(async () => { etcd = await EtcdServer.start(); });
after(async () => { await etcd.destroy(); });

const open = (member: string, keeperIntervalMs?: number) => new Etcd3Dcs({
  namespace: '/service/', scope: `keeper-${member}`, member, ttlSeconds: 4, retryTimeoutMs: 2000,
  hosts: [etcd.endpoint], ...(keeperIntervalMs ? { keeperIntervalMs } : {}),
});

function blockEventLoop(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) { /* busy: simulates slow synchronous work or a long GC pause */ }
}

test('the keeper thread renews the lease while the event loop is blocked', async () => {
  const a = open('a', 300);
  try {
    assert.equal(await a.attemptToAcquireLeader(), true);
    const blockedAt = performance.now();
    blockEventLoop(2500);
    // Renewals confirmed by the worker during the block are visible once the loop runs again.
    const confirmed = a.leaseConfirmedAt();
    assert.ok(confirmed !== null && confirmed > blockedAt + 1000, `last confirmed renewal ${confirmed} should be inside the block starting ${blockedAt}`);
    assert.equal((await a.getCluster()).leader?.member, 'a');
  } finally {
    await a.close({ revoke: true });
  }
});

test('without a keeper the blocked loop renews nothing', async () => {
  const b = open('b');
  try {
    assert.equal(await b.attemptToAcquireLeader(), true);
    const blockedAt = performance.now();
    blockEventLoop(1500);
    const confirmed = b.leaseConfirmedAt();
    assert.ok(confirmed !== null && confirmed < blockedAt, 'no renewal can have happened during the block');
  } finally {
    await b.close({ revoke: true });
  }
});

test('the keeper stops renewing when the agent stays silent, so the leader key expires', async () => {
  const c = open('c', 300);
  const watcher = open('w');
  try {
    assert.equal(await c.attemptToAcquireLeader(), true);
    const t0 = performance.now();
    // A hung agent: the main thread never yields for longer than ttl; the keeper's heartbeat goes
    // stale after 3/4 ttl (3 s) and the lease then runs out ttl (4 s) after the last renewal.
    blockEventLoop(9000);
    await waitFor('leader key gone', async () => (await watcher.getCluster()).leader === null, 3000, 100);
    assert.ok(performance.now() - t0 < 12_000);
    await sleep(10);
  } finally {
    await c.close();
    await watcher.close();
  }
});
