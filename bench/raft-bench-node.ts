/**
 * One Raft node in its own process, for bench/raft-client-latency.ts: `node raft-bench-node.js`
 * forked with an IPC channel and RAFT_BENCH = JSON {id, voters, dataDir}. It starts a RaftNode
 * (real TCP transport, fsync'd DiskStorage) and obeys the parent's IPC requests:
 *
 *   {kind: 'status'}                 -> {kind: 'status', isLeader, leader}
 *   {kind: 'run', n, tag}            -> {kind: 'samples', samples: number[]} (ms per write)
 *   {kind: 'stop'}                   -> closes the node and exits 0
 *
 * Its first message, unasked, is a status: the node has started and listens.
 *
 * A write is what the Raft DCS adapter does in the agent: an in-process RaftNode.txn call (put of a
 * 200-byte value), timed here so that IPC costs are not counted. The process exits by itself when
 * the parent goes away (the IPC channel closes), so a crashed benchmark leaves nothing behind.
 */
import { performance } from 'node:perf_hooks';
import { addressOf, RaftNode } from '../src/raft/node.js';

/** Optional driver timings (default: 50 ms ticks, election 20 ticks, heartbeat 2 ticks). */
export interface RaftBenchTimings { readonly tickMs?: number; readonly electionTicks?: number; readonly heartbeatTicks?: number }
interface NodeSpec extends RaftBenchTimings { readonly id: string; readonly voters: readonly string[]; readonly dataDir: string }

export type BenchRequest = { kind: 'status' } | { kind: 'run'; n: number; tag: string } | { kind: 'stop' };
export type BenchReply =
  | { kind: 'status'; isLeader: boolean; leader: string | null }
  | { kind: 'samples'; samples: number[] }
  | { kind: 'error'; message: string };

const quiet = { info() {}, warn() {}, error() {}, debug() {} };

async function writes(node: RaftNode, n: number, tag: string): Promise<number[]> {
  const value = 'v'.repeat(200);
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const r = await node.txn({ compare: [], success: [{ kind: 'put', key: `/bench/${tag}/${i % 100}`, value }], failure: [] });
    samples.push(performance.now() - t);
    if (r.kind === 'error') throw new Error(`write ${i} (${tag}) failed: ${r.message}`);
  }
  return samples;
}

async function main(): Promise<void> {
  const raw = process.env.RAFT_BENCH;
  if (!raw || !process.send) throw new Error('raft-bench-node: expected RAFT_BENCH={id,voters,dataDir} and an IPC channel (fork)');
  const spec = JSON.parse(raw) as NodeSpec;
  const node = new RaftNode({
    id: spec.id, listen: addressOf(spec.id), voters: spec.voters, dataDir: spec.dataDir,
    tickMs: spec.tickMs ?? 50, electionTicks: spec.electionTicks ?? 20, heartbeatTicks: spec.heartbeatTicks ?? 2, requestTimeoutMs: 5000, reconnectBaseMs: 200, log: quiet,
  });
  await node.start();
  const reply = (r: BenchReply) => process.send?.(r);
  process.on('disconnect', () => { void node.close().finally(() => process.exit(0)); });
  process.on('message', (msg: BenchRequest) => {
    if (msg.kind === 'status') reply({ kind: 'status', isLeader: node.isLeader, leader: node.leader });
    else if (msg.kind === 'run') {
      writes(node, msg.n, msg.tag).then((samples) => reply({ kind: 'samples', samples }),
        (e: unknown) => reply({ kind: 'error', message: e instanceof Error ? e.message : String(e) }));
    } else if (msg.kind === 'stop') {
      void node.close().finally(() => process.exit(0));
    }
  });
  reply({ kind: 'status', isLeader: node.isLeader, leader: node.leader });
}

main().catch((e: unknown) => {
  console.error(`raft-bench-node: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
  process.exit(1);
});
