/**
 * The idle footprint of a running cluster: per agent process, resident memory (VmRSS from
 * /proc/<pid>/status) and CPU (utime+stime from /proc/<pid>/stat, as a delta over the interval), and
 * the DCS traffic its counting proxy saw over the same interval. The fence process of each node is
 * measured the same way and reported separately, since it is part of what a node costs.
 *
 * RSS counts the file-backed pages of the node binary the process has touched (~34 MiB for an empty
 * `node -e "setInterval(()=>{},1000)"` here, of its ~40 MiB); those pages are shared by every node
 * process on the host. The anonymous part (RssAnon) is what each agent adds on its own.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fencePaths } from '../src/fence/fence.js';
import type { LocalCluster } from '../test/support/cluster.js';
import { sleep } from '../test/support/ports.js';
import type { CountingProxy } from './grpc-counter.js';

export interface ProcSample { readonly rssKiB: number; readonly rssAnonKiB: number; readonly cpuTicks: number }

export interface NodeFootprint {
  readonly node: string;
  readonly agentRssMiB: number;
  /** The agent's anonymous (private) resident memory: RSS without the shared file-backed pages. */
  readonly agentRssAnonMiB: number;
  readonly agentCpuSecPerMin: number;
  readonly fenceRssMiB: number | null;
  readonly fenceCpuSecPerMin: number | null;
  /** gRPC request messages from this agent to etcd, per minute (see grpc-counter.ts). */
  readonly dcsRequestsPerMin: number;
  /** RPCs started (HTTP/2 HEADERS frames), per minute. */
  readonly dcsCallsPerMin: number;
  readonly dcsBytesPerMin: number;
  readonly dcsNewConnections: number;
}

export interface IdleFootprint { readonly seconds: number; readonly nodes: readonly NodeFootprint[] }

let clockTicks = 0;
export function ticksPerSecond(): number {
  if (!clockTicks) {
    try { clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100; } catch { clockTicks = 100; }
  }
  return clockTicks;
}

/** RSS and cumulative CPU ticks of `pid`, or null when the process is gone. */
export function procSample(pid: number): ProcSample | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    const anon = /^RssAnon:\s+(\d+)\s+kB/m.exec(status);
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15 overall.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuTicks = Number(rest[11]) + Number(rest[12]);
    return { rssKiB: rss ? Number(rss[1]) : 0, rssAnonKiB: anon ? Number(anon[1]) : 0, cpuTicks };
  } catch { return null; }
}

function fencePid(cluster: LocalCluster, name: string, dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(fencePaths(cluster.scope, name, dataDir).pid, 'utf8').trim());
    return pid > 0 ? pid : null;
  } catch { return null; }
}

const mib = (kib: number): number => +(kib / 1024).toFixed(1);

/**
 * Measures `seconds` of idle running. `proxies[i]` must be node i's proxy to etcd. The caller makes
 * sure the cluster is healthy and no client load runs meanwhile.
 */
export async function measureIdle(cluster: LocalCluster, proxies: readonly CountingProxy[], seconds: number): Promise<IdleFootprint> {
  const pids = cluster.nodes.map((n) => ({ agent: n.proc?.pid ?? null, fence: fencePid(cluster, n.name, n.dataDir) }));
  const before = pids.map((p) => ({ agent: p.agent ? procSample(p.agent) : null, fence: p.fence ? procSample(p.fence) : null }));
  for (const p of proxies) p.takeCounts();
  await sleep(seconds * 1000);
  const perMin = 60 / seconds;
  const hz = ticksPerSecond();
  const nodes = cluster.nodes.map((n, i): NodeFootprint => {
    const p = pids[i]!;
    const a0 = before[i]?.agent;
    const a1 = p.agent ? procSample(p.agent) : null;
    const f0 = before[i]?.fence;
    const f1 = p.fence ? procSample(p.fence) : null;
    const traffic = proxies[i]?.takeCounts();
    const cpu = (x: ProcSample | null | undefined, y: ProcSample | null): number | null => (x && y ? +(((y.cpuTicks - x.cpuTicks) / hz) * perMin).toFixed(3) : null);
    return {
      node: n.name,
      agentRssMiB: a1 ? mib(a1.rssKiB) : NaN,
      agentRssAnonMiB: a1 ? mib(a1.rssAnonKiB) : NaN,
      agentCpuSecPerMin: cpu(a0, a1) ?? NaN,
      fenceRssMiB: f1 ? mib(f1.rssKiB) : null,
      fenceCpuSecPerMin: cpu(f0, f1),
      dcsRequestsPerMin: traffic ? Math.round(traffic.messages * perMin) : NaN,
      dcsCallsPerMin: traffic ? Math.round(traffic.calls * perMin) : NaN,
      dcsBytesPerMin: traffic ? Math.round((traffic.bytesUp + traffic.bytesDown) * perMin) : NaN,
      dcsNewConnections: traffic?.connections ?? 0,
    };
  });
  return { seconds, nodes };
}
