/**
 * `npm run bench`: benchmarks, not tests. Prints a table and writes bench/results/*.json.
 * BENCH=name runs one (dcs-latency, raft-storage).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { benchDcsLatency } from './dcs-latency.js';
import { benchRaftStorage } from './raft-storage.js';

async function main(): Promise<void> {
  const which = process.env.BENCH ?? 'all';
  mkdirSync('bench/results', { recursive: true });
  if (which === 'all' || which === 'dcs-latency') {
    const rows = await benchDcsLatency();
    console.log('\nDCS latency through the etcd3 adapter (one local etcd 3.4), milliseconds');
    console.table(rows);
    writeFileSync('bench/results/dcs-latency.json', JSON.stringify({ at: new Date().toISOString(), rows }, null, 2));
  }
  if (which === 'all' || which === 'raft-storage') {
    const r = await benchRaftStorage();
    console.log('\nRaft log store: fsync\'d single-entry persists');
    console.table([r]);
    writeFileSync('bench/results/raft-storage.json', JSON.stringify({ at: new Date().toISOString(), ...r }, null, 2));
  }
}

main().catch((e: unknown) => { console.error(e); process.exitCode = 1; });
