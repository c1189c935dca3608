/**
 * The shared DCS contract suite against the built-in Raft store: three real RaftNodes in this
 * process (real TCP transport on loopback, real disk storage in temp dirs). Each adapter talks to one
 * node through a switchable link, so a member can "go silent"; stopping the store closes every node
 * and starting it reopens them from their data directories.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RaftDcs } from '../../src/dcs/raft/adapter.js';
import type { Dcs } from '../../src/dcs/port.js';
import type { KvClientOps } from '../../src/raft/kv/index.js';
import { RaftNode } from '../../src/raft/node.js';
import { freePort, waitFor } from '../support/ports.js';
import { dcsContract, type ContractHarness } from './contract.js';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };

class Link implements KvClientOps {
  silent = false;
  constructor(private readonly node: () => RaftNode | null, private readonly timeoutMs: number) {}
  private via<T>(fn: (n: RaftNode) => Promise<T>): Promise<T> {
    const n = this.node();
    if (this.silent) return new Promise((_, reject) => setTimeout(() => reject(new Error('link blackholed')), this.timeoutMs));
    if (!n) return Promise.reject(new Error('raft store is stopped'));
    return fn(n);
  }
  txn: KvClientOps['txn'] = (r) => this.via((n) => n.txn(r));
  range: KvClientOps['range'] = (t, o) => this.via((n) => n.range(t, o));
  leaseGrant: KvClientOps['leaseGrant'] = (t) => this.via((n) => n.leaseGrant(t));
  leaseKeepAlive: KvClientOps['leaseKeepAlive'] = (id) => this.via((n) => n.leaseKeepAlive(id));
  leaseRevoke: KvClientOps['leaseRevoke'] = (id) => this.via((n) => n.leaseRevoke(id));
  watch: KvClientOps['watch'] = (a, p, t) => this.via((n) => n.watch(a, p, t));
}

dcsContract('raft (built-in, 3 nodes)', async (): Promise<ContractHarness> => {
  const root = mkdtempSync(join(tmpdir(), 'raft-contract-'));
  const ports = [await freePort(), await freePort(), await freePort()];
  const ids = ports.map((p) => `127.0.0.1:${p}`);
  let nodes: Array<RaftNode | null> = [null, null, null];
  const startAll = async () => {
    nodes = ids.map((id, i) => new RaftNode({
      id, listen: { host: '127.0.0.1', port: ports[i]! }, voters: ids, dataDir: join(root, `n${i}`),
      tickMs: 50, electionTicks: 10, heartbeatTicks: 1, requestTimeoutMs: 1500, reconnectBaseMs: 100, log: quiet,
    }));
    await Promise.all(nodes.map((n) => n!.start()));
    await waitFor('a raft leader', () => nodes.some((n) => n?.isLeader), 10_000, 20);
  };
  const stopAll = async () => { const old = nodes; nodes = [null, null, null]; await Promise.all(old.map((n) => n?.close())); };
  await startAll();
  const links = new Map<Dcs, Link>();
  let next = 0;
  return {
    ttlSeconds: 4,
    retryTimeoutMs: 2000,
    async open(o) {
      const i = next++ % 3;
      const link = new Link(() => nodes[i] ?? null, o.retryTimeoutMs ?? 2000);
      const dcs = new RaftDcs(link, { namespace: '/service/', scope: o.scope, member: o.member, ttlSeconds: o.ttlSeconds ?? 4, retryTimeoutMs: o.retryTimeoutMs ?? 2000 });
      links.set(dcs, link);
      return dcs;
    },
    silence(d) { links.get(d)!.silent = true; },
    heal(d) { links.get(d)!.silent = false; },
    stopServer: stopAll,
    startServer: startAll,
    async teardown() {
      await stopAll();
      rmSync(root, { recursive: true, force: true });
    },
  };
});
