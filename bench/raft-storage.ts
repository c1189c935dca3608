/**
 * Durable log write cost: sequential persists of ONE 200-byte entry plus a hard state, each
 * fsync'd before the next starts (what a Raft follower does per append when idle-ish, and the
 * floor under the client write latency target in issue 4).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DiskStorage } from '../src/raft/storage/index.js';

export interface RaftStorageBench {
  readonly appendsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** Runs `n` fsync'd single-entry persists in a temp dir under `baseDir` (default the OS temp dir). */
export async function benchRaftStorage(n = Number(process.env.BENCH_N ?? 2000), baseDir = tmpdir()): Promise<RaftStorageBench> {
  const dir = mkdtempSync(join(baseDir, 'raft-storage-bench-'));
  const store = DiskStorage.open(dir, { logger: { info: () => {}, warn: () => {} } });
  try {
    const data = new Uint8Array(200).fill(0x61);
    const samples: number[] = [];
    const t0 = performance.now();
    for (let i = 1; i <= n; i++) {
      const t = performance.now();
      store.persist({ entries: [{ index: i, term: 1, type: 'normal', data }], hardState: { term: 1, vote: 'n1', commit: i } });
      samples.push(performance.now() - t);
      // Let the event loop breathe as a real driver would between Readies.
      if (i % 100 === 0) await new Promise((r) => setImmediate(r));
    }
    const totalMs = performance.now() - t0;
    samples.sort((a, b) => a - b);
    const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0;
    return { appendsPerSecond: Math.round((n / totalMs) * 1000), p50Ms: +at(0.5).toFixed(3), p99Ms: +at(0.99).toFixed(3) };
  } finally {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
