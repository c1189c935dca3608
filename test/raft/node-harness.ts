/**
 * Real RaftNodes in the test process (TCP on loopback, disk storage in one temp dir) with the
 * start/stop/leader helpers the in-process membership tests share.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RaftNode, type RaftNodeLogger, type RaftNodeOptions } from '../../src/raft/node.js';
import { waitFor } from '../support/ports.js';

export const QUIET_LOG: RaftNodeLogger = { info() {}, warn() {}, error() {}, debug() {} };

export interface RaftHarnessOptions {
  /** Temp dir name prefix. */
  readonly dirPrefix: string;
  readonly jobsPrefix: string;
  readonly requestTimeoutMs: number;
  /** Which running node counts as the leader (default: any that says it leads). */
  readonly isLeader?: (n: RaftNode) => boolean;
}

export class RaftHarness {
  readonly root: string;
  readonly nodes = new Map<string, RaftNode>();

  constructor(private readonly o: RaftHarnessOptions) {
    this.root = mkdtempSync(join(tmpdir(), o.dirPrefix));
  }

  /** Starts node `id` ("127.0.0.1:port") with 50 ms ticks, 10-tick elections, 1-tick heartbeats. */
  async startNode(id: string, o: Partial<RaftNodeOptions> & Pick<RaftNodeOptions, 'voters'>, log: RaftNodeLogger = QUIET_LOG): Promise<RaftNode> {
    const port = Number(id.slice(id.lastIndexOf(':') + 1));
    const n = new RaftNode({
      id, listen: { host: '127.0.0.1', port }, dataDir: join(this.root, id.replace(/\W/g, '_')),
      tickMs: 50, electionTicks: 10, heartbeatTicks: 1, requestTimeoutMs: this.o.requestTimeoutMs, reconnectBaseMs: 100, log,
      jobsPrefix: this.o.jobsPrefix, ...o,
    });
    await n.start();
    this.nodes.set(id, n);
    return n;
  }

  async stop(id: string): Promise<void> {
    const n = this.nodes.get(id);
    this.nodes.delete(id);
    await n?.close();
  }

  leader(): Promise<RaftNode> {
    const leads = this.o.isLeader ?? ((n: RaftNode) => n.isLeader);
    return waitFor('a raft leader', () => [...this.nodes.values()].find(leads) ?? null, 10_000, 20);
  }

  node(id: string): RaftNode {
    const n = this.nodes.get(id);
    assert.ok(n, `node ${id} is running`);
    return n;
  }

  async cleanup(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => n.close()));
    this.nodes.clear();
    rmSync(this.root, { recursive: true, force: true });
  }
}
