/**
 * Client write latency of the built-in Raft store: three RaftNodes in this process on loopback
 * (real TCP transport, real DiskStorage with fsync in a temp dir), sequential 200-byte puts through
 * the KV client API the DCS adapter uses (RaftNode.txn), N on a follower (forwarded to the leader)
 * and N on the leader. Compared with etcd 3.4.23's 2.6-3.9 ms p99 for the same workload
 * (shared/reference/anchors.md). In-process means the three nodes share one event loop, which is
 * harsher than three processes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createServer } from 'node:net';
import { RaftNode } from '../src/raft/node.js';

export interface LatencyRow {
  readonly via: 'leader' | 'follower';
  readonly writes: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  readonly writesPerSecond: number;
}

/** etcd 3.4.23, three members on loopback, same workload (anchors.md). */
export const ETCD_P99_MS = { low: 2.6, high: 3.9 } as const;

const quiet = { info() {}, warn() {}, error() {}, debug() {} };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const a = srv.address();
      srv.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

async function waitForLeader(nodes: readonly RaftNode[]): Promise<RaftNode> {
  const end = performance.now() + 15_000;
  while (performance.now() < end) {
    const l = nodes.find((n) => n.isLeader);
    if (l) return l;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('no raft leader within 15 s');
}

async function run(node: RaftNode, via: LatencyRow['via'], n: number): Promise<LatencyRow> {
  const value = 'v'.repeat(200);
  const samples: number[] = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await node.txn({ compare: [], success: [{ kind: 'put', key: `/bench/${via}/${i % 100}`, value }], failure: [] });
    samples.push(performance.now() - t);
    if (r.kind === 'error') throw new Error(`write ${i} via ${via} failed: ${r.message}`);
  }
  const total = performance.now() - t0;
  samples.sort((a, b) => a - b);
  const q = (p: number) => +(samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] ?? 0).toFixed(3);
  return { via, writes: n, p50Ms: q(0.5), p90Ms: q(0.9), p99Ms: q(0.99), maxMs: +(samples.at(-1) ?? 0).toFixed(3), writesPerSecond: Math.round((n / total) * 1000) };
}

/** Runs the benchmark: `n` writes via a follower, then `n` via the leader. */
export async function benchRaftClientLatency(n = Number(process.env.BENCH_N ?? 2000)): Promise<LatencyRow[]> {
  const root = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'raft-latency-'));
  const ports = [await freePort(), await freePort(), await freePort()];
  const ids = ports.map((p) => `127.0.0.1:${p}`);
  const nodes = ids.map((id, i) => new RaftNode({
    id, listen: { host: '127.0.0.1', port: ports[i]! }, voters: ids, dataDir: join(root, `n${i}`),
    tickMs: 50, electionTicks: 20, heartbeatTicks: 2, requestTimeoutMs: 5000, reconnectBaseMs: 200, log: quiet,
  }));
  try {
    await Promise.all(nodes.map((x) => x.start()));
    const leader = await waitForLeader(nodes);
    const follower = nodes.find((x) => x !== leader)!;
    await run(leader, 'leader', 50); // warm-up: connections, JIT
    return [await run(follower, 'follower', n), await run(leader, 'leader', n)];
  } finally {
    await Promise.all(nodes.map((x) => x.close()));
    rmSync(root, { recursive: true, force: true });
  }
}

/** One line per row saying how it compares with etcd 3.4's p99. */
export function compareWithEtcd(rows: readonly LatencyRow[]): string[] {
  return rows.map((r) => {
    const verdict = r.p99Ms <= ETCD_P99_MS.low ? 'better than' : r.p99Ms <= ETCD_P99_MS.high ? 'within' : 'WORSE than';
    return `via ${r.via}: p99 ${r.p99Ms} ms is ${verdict} etcd 3.4's ${ETCD_P99_MS.low}-${ETCD_P99_MS.high} ms`;
  });
}

// `node dist/bench/raft-client-latency.js` runs it alone (for --cpu-prof).
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const rows = await benchRaftClientLatency();
  console.table(rows);
  for (const l of compareWithEtcd(rows)) console.log(l);
}
