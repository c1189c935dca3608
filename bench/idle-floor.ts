/**
 * What idle costs below the agent (`BENCH=idle-floor npm run bench`): the floor that issue 4's
 * 0.1 CPU-s/min per agent is measured against. Three groups of processes run side by side, each
 * measured from /proc over the same interval:
 *
 * - a bare Node.js process with one timer at the heartbeat interval (idle-floor-child.ts `idle`);
 * - two bare Node.js processes exchanging one 40-byte frame per heartbeat interval over TCP, the
 *   least a Raft follower and its leader can do per heartbeat on this runtime (`ping` and `echo`);
 * - three Raft nodes alone (raft-bench-node.ts: RaftNode with TCP transport and fsync'd storage,
 *   no agent, no PostgreSQL) with the timings an agent derives from ttl 30 (docs/raft.md).
 *
 * The agent's own figure is BENCH=raft-idle; its difference from the Raft-only rows is the HA loop.
 * BENCH_IDLE_S (default 120) is the measured interval, BENCH_SETTLE_S (default 30) the time before
 * it (V8's memory reducer runs a few collections in the first seconds of a process).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defaultHeartbeatMs, defaultNodeTimeoutMs } from '../src/config/raft.js';
import { DRIVER_TICK_MS, msToTicks } from '../src/raft/core/qluster.js';
import { freePorts, sleep } from '../test/support/ports.js';
import { procSample, ticksPerSecond } from './footprint.js';
import { NodeProc } from './raft-client-latency.js';
import { envSeconds } from './raft-idle.js';

export interface FloorRow {
  readonly process: string;
  readonly cpuSecPerMin: number;
  readonly rssMiB: number;
}

const TTL_S = 30;

function child(args: string[]): ChildProcess {
  const script = fileURLToPath(new URL('./idle-floor-child.js', import.meta.url));
  return fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
}

export async function benchIdleFloor(): Promise<{ seconds: number; heartbeatMs: number; nodeTimeoutMs: number; rows: FloorRow[] }> {
  const idleS = envSeconds('BENCH_IDLE_S', 120);
  const settleS = envSeconds('BENCH_SETTLE_S', 30);
  const nodeTimeoutMs = defaultNodeTimeoutMs(TTL_S);
  const heartbeatMs = defaultHeartbeatMs(nodeTimeoutMs);
  const kids: ChildProcess[] = [];
  const raft: NodeProc[] = [];
  const dirs: string[] = [];
  try {
    const idle = child(['idle', String(heartbeatMs)]);
    const echo = child(['echo']);
    kids.push(idle, echo);
    const port = await new Promise<number>((resolve, reject) => {
      echo.once('message', (m) => resolve(Number(m)));
      echo.once('exit', (code) => reject(new Error(`echo process exited with ${code}`)));
    });
    const ping = child(['ping', String(port), String(heartbeatMs)]);
    kids.push(ping);

    const ids = (await freePorts(3)).map((p) => `127.0.0.1:${p}`);
    const script = fileURLToPath(new URL('./raft-bench-node.js', import.meta.url));
    const timings = { tickMs: DRIVER_TICK_MS, electionTicks: msToTicks(nodeTimeoutMs, DRIVER_TICK_MS), heartbeatTicks: msToTicks(heartbeatMs, DRIVER_TICK_MS) };
    for (const id of ids) {
      const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'idle-floor-raft-'));
      dirs.push(dir);
      raft.push(NodeProc.spawn(id, ids, dir, script, timings));
    }
    await Promise.all(raft.map((p) => p.ready));
    await sleep(settleS * 1000);

    const named: Array<[string, number | undefined]> = [
      ['node, one timer', idle.pid], ['node, echo (answers a frame per heartbeat)', echo.pid], ['node, ping (sends a frame per heartbeat)', ping.pid],
      ...raft.map((p, i): [string, number | undefined] => [`raft only, node ${i + 1}`, p.pid]),
    ];
    const before = named.map(([, pid]) => (pid === undefined ? null : procSample(pid)));
    await sleep(idleS * 1000);
    const after = named.map(([, pid]) => (pid === undefined ? null : procSample(pid)));
    const roles = await Promise.all(raft.map(async (p) => {
      const r = await p.ask({ kind: 'status' }, 5000).catch(() => null);
      return r?.kind === 'status' ? (r.isLeader ? 'leader' : 'follower') : '?';
    }));
    const hz = ticksPerSecond();
    const rows = named.map(([name], i): FloorRow => {
      const b = before[i];
      const a = after[i];
      if (!a || !b) throw new Error(`${name}: process gone during the measurement`);
      const label = i >= 3 ? `${name} (${roles[i - 3]})` : name;
      return { process: label, cpuSecPerMin: +((((a.cpuTicks - b.cpuTicks) / hz) * 60) / idleS).toFixed(3), rssMiB: +(a.rssKiB / 1024).toFixed(1) };
    });
    return { seconds: idleS, heartbeatMs, nodeTimeoutMs, rows };
  } finally {
    await Promise.all(raft.map((p) => p.stop().catch(() => p.kill())));
    for (const k of kids) if (k.exitCode === null && k.signalCode === null) k.kill('SIGKILL');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
}
