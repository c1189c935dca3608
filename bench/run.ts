/**
 * `npm run bench`: benchmarks, not tests. Prints a table and writes bench/results/*.json.
 * BENCH=name runs one (dcs-latency, raft-storage, raft-latency, raft-idle, idle-floor, failover; see failover.ts,
 * raft-idle.ts and idle-floor.ts for their own variables).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { benchDcsLatency } from './dcs-latency.js';
import { benchFailover } from './failover.js';
import { benchIdleFloor } from './idle-floor.js';
import { idleRows, summarise } from './failover-report.js';
import { benchRaftClientLatency, compareWithEtcd } from './raft-client-latency.js';
import { benchRaftIdle } from './raft-idle.js';
import { benchRaftStorage } from './raft-storage.js';
import { checkSvg } from './timeline-svg.js';

async function failover(): Promise<void> {
  const report = await benchFailover();
  console.log('\nFailover: seconds from the fault to a writable new primary, client-seen max write gap, lost acknowledged writes; median (min-max)');
  console.table(summarise(report.runs));
  for (const [profile, idle] of Object.entries(report.idle)) {
    console.log(`\nIdle footprint, ${profile} profile, over ${idle.seconds} s (DCS req = gRPC request messages to etcd; calls = RPCs started; "all agents" RSS is the mean per agent)`);
    console.table(idleRows(profile as 'fast' | 'default', idle));
  }
  if (report.timeline) {
    writeFileSync('bench/results/failover-timeline.svg', report.timeline.svg);
    const check = checkSvg(report.timeline.svg);
    console.log(`\nbench/results/failover-timeline.svg: well-formed, ${check.elements} elements ${JSON.stringify(check.byName)}`);
  }
  for (const e of report.errors) console.log(`FAILED RUN: ${e}`);
  const { timeline, ...rest } = report;
  writeFileSync('bench/results/failover.json', JSON.stringify({ ...rest, summary: summarise(report.runs), timeline: timeline?.input ?? null }, null, 2));
  if (report.errors.length) process.exitCode = 1;
}

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
  if (which === 'all' || which === 'raft-latency') {
    const rows = await benchRaftClientLatency();
    console.log('\nBuilt-in Raft store: sequential 200-byte puts through the client API, three local nodes, fsync on (ms)');
    console.table(rows);
    for (const line of compareWithEtcd(rows)) console.log(line);
    writeFileSync('bench/results/raft-latency.json', JSON.stringify({ at: new Date().toISOString(), rows }, null, 2));
  }
  if (which === 'all' || which === 'raft-idle') {
    const r = await benchRaftIdle();
    console.log(`\nIdle footprint, built-in Raft DCS (ttl 30, loop_wait 10; raft timings ${process.env.BENCH_RAFT ? `from ttl, overridden by ${process.env.BENCH_RAFT}` : 'from ttl'}), over ${r.seconds} s after ${r.settleSeconds} s quiet; target 0.1 CPU-s/min and 42.6 MiB per agent`);
    console.table(r.rows);
    writeFileSync('bench/results/raft-idle.json', JSON.stringify({ at: new Date().toISOString(), ...r }, null, 2));
  }
  if (which === 'all' || which === 'idle-floor') {
    const r = await benchIdleFloor();
    console.log(`\nIdle floor over ${r.seconds} s: bare Node.js processes and Raft alone at the ttl-30 timings (heartbeat ${r.heartbeatMs} ms, node-timeout ${r.nodeTimeoutMs} ms)`);
    console.table(r.rows);
    writeFileSync('bench/results/idle-floor.json', JSON.stringify({ at: new Date().toISOString(), ...r }, null, 2));
  }
  if (which === 'all' || which === 'failover') await failover();
}

main().catch((e: unknown) => { console.error(e); process.exitCode = 1; });
