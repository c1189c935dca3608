/**
 * QLUSTER settings in the config file reach the Raft core of the embedded node: three agents'
 * configurations are validated as at startup and opened with openEmbeddedRaft (real TCP on
 * loopback, real disk storage). With quorum-replication: false every voter must store an entry, so
 * with one voter down nothing commits; the same cluster with the default (majority) commits.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateConfig } from '../../src/config/index.js';
import type { RaftDcs } from '../../src/dcs/raft/adapter.js';
import { openEmbeddedRaft } from '../../src/dcs/raft/embedded.js';
import { DcsUnavailableError } from '../../src/dcs/errors.js';
import { freePort, waitFor } from '../support/ports.js';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const root = mkdtempSync(join(tmpdir(), 'raft-embedded-settings-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));

/** Opens three embedded nodes whose raft sections carry `settings`. */
async function cluster(name: string, settings: Record<string, unknown>): Promise<RaftDcs[]> {
  const addrs = (await Promise.all([freePort(), freePort(), freePort()])).map((p) => `127.0.0.1:${p}`);
  return addrs.map((self, i) => {
    const raw = {
      scope: name, name: `n${i}`,
      restapi: { listen: '127.0.0.1:8008', connect_address: '127.0.0.1:8008' },
      raft: { self_addr: self, partner_addrs: addrs.filter((a) => a !== self), data_dir: join(root, name, `n${i}`), ...settings },
      bootstrap: { dcs: { ttl: 10, loop_wait: 1, retry_timeout: 2 } },
      postgresql: {
        listen: '127.0.0.1:5432', connect_address: '127.0.0.1:5432', data_dir: join(root, name, `pg${i}`),
        authentication: { superuser: { username: 'postgres' }, replication: { username: 'replicator' } },
      },
    };
    const checked = validateConfig(raw, { checkBinaries: false });
    assert.deepEqual(checked.errors, []);
    return openEmbeddedRaft(checked.config!, { namespace: '/service/', scope: name, member: `n${i}`, ttlSeconds: 10, retryTimeoutMs: 1200, log: quiet });
  });
}

/** Writes through the leader's adapter with one follower stopped; resolves with the outcome. */
async function writeWithOneVoterDown(dcss: RaftDcs[]): Promise<'committed' | 'unavailable'> {
  await waitFor('a raft leader', () => dcss.some((d) => d.raftNode?.isLeader), 10_000, 20);
  const leader = dcss.find((d) => d.raftNode?.isLeader)!;
  await leader.setStatus({ optime: 1 }); // all three up: commits under any rule
  const follower = dcss.find((d) => d !== leader)!;
  await follower.close();
  try {
    await leader.setStatus({ optime: 2 });
    return 'committed';
  } catch (e) {
    assert.ok(e instanceof DcsUnavailableError, String(e));
    return 'unavailable';
  }
}

describe('QLUSTER settings from the config reach the core', () => {
  const open: RaftDcs[] = [];
  after(async () => { await Promise.all(open.map((d) => d.close().catch(() => undefined))); rmSync(root, { recursive: true, force: true }); });

  test('quorum-replication: false does not commit with one voter down', async () => {
    const dcss = await cluster('all', { 'quorum-replication': false, 'node-timeout': '600ms', 'heartbeat-interval': '50ms', 'hello-retry-interval': '100ms' });
    open.push(...dcss);
    assert.equal(await writeWithOneVoterDown(dcss), 'unavailable');
  });

  test('the default (majority) commits with one voter down', async () => {
    const dcss = await cluster('majority', { node_timeout: '600ms', heartbeat_interval: '50ms' });
    open.push(...dcss);
    assert.equal(await writeWithOneVoterDown(dcss), 'committed');
  });
});
