/**
 * DCS write latency through our adapter: sequential compare-and-set writes of a 200-byte value and
 * leader-lock renewals against a real local etcd (the figure anchors.md gives for etcd 3.4 itself:
 * p50 1.1-1.3 ms, p99 2.6-3.9 ms through the JSON gateway).
 */
import { performance } from 'node:perf_hooks';
import { Etcd3Dcs } from '../src/dcs/etcd3/adapter.js';
import { EtcdServer } from '../test/support/etcd.js';

export interface LatencyRow { readonly op: string; readonly n: number; readonly p50: number; readonly p99: number; readonly perSecond: number }

function summarise(op: string, samples: number[], totalMs: number): LatencyRow {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0;
  return { op, n: s.length, p50: +at(0.5).toFixed(2), p99: +at(0.99).toFixed(2), perSecond: Math.round((s.length / totalMs) * 1000) };
}

export async function benchDcsLatency(n = Number(process.env.BENCH_N ?? 2000)): Promise<LatencyRow[]> {
  const etcd = await EtcdServer.start();
  const dcs = new Etcd3Dcs({ namespace: '/service/', scope: 'bench', member: 'b1', ttlSeconds: 30, retryTimeoutMs: 10_000, hosts: [etcd.endpoint] });
  try {
    const rows: LatencyRow[] = [];
    const value = { pad: 'x'.repeat(180) };
    let version: string | null = null;
    const cas: number[] = [];
    let t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      const r = await dcs.setConfig({ ...value, i }, version);
      cas.push(performance.now() - t);
      if (!r.ok) throw new Error('unexpected CAS failure');
      version = r.version;
    }
    rows.push(summarise('config CAS write (200 B)', cas, performance.now() - t0));
    await dcs.attemptToAcquireLeader();
    const renew: number[] = [];
    t0 = performance.now();
    for (let i = 0; i < Math.min(n, 500); i++) {
      const t = performance.now();
      if (!(await dcs.updateLeader())) throw new Error('lost the lock during the bench');
      renew.push(performance.now() - t);
    }
    rows.push(summarise('leader renewal (keepalive + txn)', renew, performance.now() - t0));
    const reads: number[] = [];
    t0 = performance.now();
    for (let i = 0; i < Math.min(n, 500); i++) {
      const t = performance.now();
      await dcs.getCluster();
      reads.push(performance.now() - t);
    }
    rows.push(summarise('cluster read (linearizable range)', reads, performance.now() - t0));
    return rows;
  } finally {
    await dcs.close({ revoke: true });
    await etcd.destroy();
  }
}
