/**
 * Client write latency of the built-in Raft store against etcd 3.4 on the same machine.
 *
 * Raft: three RaftNodes, each in its own process (bench/raft-bench-node.ts) as on real hosts, so
 * their fsyncs run in parallel; real TCP on loopback, fsync'd DiskStorage in temp dirs. N sequential
 * 200-byte puts through the client API the DCS adapter uses (an in-process RaftNode.txn in the
 * node's process), first issued on a follower (forwarded to the leader), then on the leader.
 *
 * etcd (unless BENCH_ETCD=0): a three-member etcd 3.4 cluster on loopback, the same N sequential
 * 200-byte puts with the etcd3 npm client, connected to a follower, then to the leader.
 *
 * BENCH_BASELINE=/path/to/other/dist/bench/raft-bench-node.js adds the same Raft rows for another
 * build (e.g. the previous commit), for a before/after comparison under the same load. All the
 * clusters run at the same time and take turns in blocks (see benchRaftClientLatency).
 *
 * anchors.md's figure (etcd 3.4.23, p99 2.6-3.9 ms via the JSON gateway) is the fallback reference
 * when etcd is not measured here.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Etcd3 } from 'etcd3';
import { freePort } from '../test/support/ports.js';
import { EtcdCluster, type EtcdMember } from './etcd-cluster.js';
import type { BenchReply, BenchRequest, RaftBenchTimings } from './raft-bench-node.js';

export interface LatencyRow {
  /** 'raft-baseline': the build named by BENCH_BASELINE (another checkout's dist/bench/raft-bench-node.js). */
  readonly system: 'raft' | 'raft-baseline' | 'etcd';
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

/** Summary of `samples` (ms per write, in issue order). */
export function summarise(system: LatencyRow['system'], via: LatencyRow['via'], samples: readonly number[]): LatencyRow {
  const total = samples.reduce((a, b) => a + b, 0);
  const s = [...samples].sort((a, b) => a - b);
  const q = (p: number) => +(s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0).toFixed(3);
  return { system, via, writes: s.length, p50Ms: q(0.5), p90Ms: q(0.9), p99Ms: q(0.99), maxMs: +(s.at(-1) ?? 0).toFixed(3), writesPerSecond: Math.round((s.length / total) * 1000) };
}

/** A forked raft-bench-node with request/answer over IPC (one request at a time). */
export class NodeProc {
  private constructor(
    readonly id: string,
    private readonly child: ChildProcess,
    private readonly exited: Promise<void>,
    /** Resolves with the child's first message: its node has started. */
    readonly ready: Promise<void>,
  ) {}

  static spawn(id: string, voters: readonly string[], dataDir: string, script: string, timings: RaftBenchTimings = {}): NodeProc {
    // BENCH_NODE_ARGS: extra node flags for the node processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
    const execArgv = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const env = { ...process.env, RAFT_BENCH: JSON.stringify({ id, voters, dataDir, ...timings }) };
    const child = fork(script, [], { env, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const ready = new Promise<void>((resolve, reject) => {
      child.once('message', () => resolve());
      child.once('exit', (code) => reject(new Error(`node ${id} exited with ${code} before starting`)));
    });
    ready.catch(() => undefined);
    return new NodeProc(id, child, exited, ready);
  }

  /** Sends `req` and resolves with the next reply (call after `ready`). */
  ask(req: BenchRequest, timeoutMs: number): Promise<BenchReply> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => { this.child.off('message', on); reject(new Error(`node ${this.id}: no answer to ${req.kind} within ${timeoutMs} ms`)); }, timeoutMs);
      const on = (m: BenchReply) => { clearTimeout(t); this.child.off('message', on); resolve(m); };
      this.child.on('message', on);
      this.child.send(req);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    if (this.child.connected) this.child.send({ kind: 'stop' } satisfies BenchRequest);
    const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(t);
  }

  get pid(): number | undefined { return this.child.pid; }

  kill(): void { if (this.child.pid !== undefined && this.child.exitCode === null) this.child.kill('SIGKILL'); }
}

async function raftLeader(procs: readonly NodeProc[]): Promise<NodeProc> {
  const end = performance.now() + 15_000;
  while (performance.now() < end) {
    for (const p of procs) {
      const r = await p.ask({ kind: 'status' }, 5000);
      if (r.kind === 'status' && r.isLeader) return p;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('no raft leader within 15 s');
}

async function raftWrites(p: NodeProc, n: number, tag: string): Promise<number[]> {
  const r = await p.ask({ kind: 'run', n, tag }, 120_000);
  if (r.kind !== 'samples') throw new Error(`node ${p.id}: ${r.kind === 'error' ? r.message : 'unexpected reply'}`);
  return r.samples;
}

const NODE_SCRIPT = new URL('./raft-bench-node.js', import.meta.url).pathname;

interface RaftCluster { readonly procs: NodeProc[]; readonly leader: NodeProc; readonly follower: NodeProc }

/** Three Raft node processes running `script`, started, with a leader elected. */
async function startRaft(root: string, script: string): Promise<RaftCluster> {
  const ids = (await Promise.all([freePort(), freePort(), freePort()])).map((p) => `127.0.0.1:${p}`);
  const procs = ids.map((id, i) => NodeProc.spawn(id, ids, join(root, `n${i}`), script));
  try {
    await Promise.all(procs.map((p) => p.ready));
    const leader = await raftLeader(procs);
    return { procs, leader, follower: procs.find((p) => p !== leader)! };
  } catch (e) {
    procs.forEach((p) => p.kill());
    throw e;
  }
}

async function etcdWrites(m: EtcdMember, n: number, tag: string): Promise<number[]> {
  const client = new Etcd3({ hosts: [m.endpoint] });
  const value = 'v'.repeat(200);
  try {
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      await client.put(`/bench/${tag}/${i % 100}`).value(value);
      samples.push(performance.now() - t);
    }
    return samples;
  } finally {
    client.close();
  }
}

type Writer = (n: number, tag: string) => Promise<number[]>;

/**
 * Runs the benchmark: N writes via a follower and N via the leader, on the Raft store, on a
 * three-member etcd 3.4 (unless BENCH_ETCD=0) and on a baseline build of the Raft store (when
 * BENCH_BASELINE names its raft-bench-node.js). All clusters run side by side and the writes go in
 * alternating blocks, so that a burst of load from other users of the machine hits each alike.
 */
export async function benchRaftClientLatency(n = Number(process.env.BENCH_N ?? 2000), blocks = 8): Promise<LatencyRow[]> {
  const root = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'raft-latency-'));
  const rafts: RaftCluster[] = [];
  let etcd: EtcdCluster | null = null;
  const onExit = () => rafts.forEach((r) => r.procs.forEach((p) => p.kill()));
  process.on('exit', onExit);
  try {
    const writers: Array<[LatencyRow['system'], LatencyRow['via'], Writer]> = [];
    const builds: Array<['raft' | 'raft-baseline', string]> = [['raft', NODE_SCRIPT]];
    if (process.env.BENCH_BASELINE) builds.push(['raft-baseline', process.env.BENCH_BASELINE]);
    for (const [system, script] of builds) {
      const r = await startRaft(join(root, system), script);
      rafts.push(r);
      writers.push([system, 'follower', (k, tag) => raftWrites(r.follower, k, tag)], [system, 'leader', (k, tag) => raftWrites(r.leader, k, tag)]);
    }
    if (process.env.BENCH_ETCD !== '0') {
      etcd = await EtcdCluster.start();
      const leader = await etcd.leader();
      const follower = etcd.members.find((m) => m !== leader)!;
      writers.push(['etcd', 'follower', (k, tag) => etcdWrites(follower, k, tag)], ['etcd', 'leader', (k, tag) => etcdWrites(leader, k, tag)]);
    }
    for (const [, via, write] of writers) await write(100, `warm-${via}`); // connections, JIT
    const samples = writers.map((): number[] => []);
    for (let b = 0; b < blocks; b++) {
      const k = Math.floor(n / blocks) + (b < n % blocks ? 1 : 0);
      for (const [i, [, via, write]] of writers.entries()) samples[i]!.push(...await write(k, via));
    }
    return writers.map(([system, via], i) => summarise(system, via, samples[i]!));
  } finally {
    await Promise.all(rafts.flatMap((r) => r.procs.map((p) => p.stop())));
    process.off('exit', onExit);
    await etcd?.destroy();
    rmSync(root, { recursive: true, force: true });
  }
}

/** One line per Raft row saying how its p99 compares with etcd's (measured here, else anchors.md's). */
export function compareWithEtcd(rows: readonly LatencyRow[]): string[] {
  return rows.filter((r) => r.system !== 'etcd').map((r) => {
    const etcd = rows.find((e) => e.system === 'etcd' && e.via === r.via);
    if (etcd) {
      const ratio = (r.p99Ms / etcd.p99Ms).toFixed(2);
      return `${r.system} via ${r.via}: p99 ${r.p99Ms} ms vs etcd 3.4 measured here ${etcd.p99Ms} ms (x${ratio}); p50 ${r.p50Ms} vs ${etcd.p50Ms} ms`;
    }
    const verdict = r.p99Ms <= ETCD_P99_MS.low ? 'better than' : r.p99Ms <= ETCD_P99_MS.high ? 'within' : 'WORSE than';
    return `${r.system} via ${r.via}: p99 ${r.p99Ms} ms is ${verdict} anchors.md's etcd 3.4 ${ETCD_P99_MS.low}-${ETCD_P99_MS.high} ms`;
  });
}

// `node dist/bench/raft-client-latency.js` runs it alone.
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const rows = await benchRaftClientLatency();
  console.table(rows);
  for (const l of compareWithEtcd(rows)) console.log(l);
}
