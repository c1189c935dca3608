/**
 * Idle footprint in QLUSTER mode (`BENCH=raft-idle npm run bench`): three agents on the built-in
 * Raft store with real PostgreSQL, Patroni's default timing (ttl 30, loop_wait 10, retry_timeout 10)
 * and the raft timings those imply, left quiet; then each agent's CPU and memory as in the etcd
 * profile (footprint.ts). Each agent here is also a Raft server, so the figure includes what etcd
 * costs in the other mode. Issue 4's target: 0.1 CPU-s/min and 42.6 MiB per agent.
 *
 * BENCH_IDLE_S (default 120) is the measured interval; BENCH_SETTLE_S (default 40) the quiet time
 * before it, so most of the WAL that bootstrap writes has stopped moving (PostgreSQL's first
 * checkpoint, checkpoint_timeout after bootstrap, can still fall in the interval: logEntries shows it).
 *
 * BENCH_RAFT_LEADER=replica moves Raft leadership (by a transfer job) to a node that is not the
 * PostgreSQL primary before the quiet time, so the Raft leader's cost and the primary's cost show on
 * separate rows; by default whichever node won the first election leads, the primary or not.
 *
 * BENCH_RAFT is a JSON object of extra keys for every node's raft: section, to measure other
 * timings than the ones derived from ttl, e.g. '{"node-timeout":"5s","heartbeat-interval":"2500ms"}'.
 */
import { raftAddr, submitJob } from '../test/e2e/raft-helpers.js';
import { LocalCluster } from '../test/support/cluster.js';
import { sleep } from '../test/support/ports.js';
import { measureIdle, type NodeFootprint } from './footprint.js';

export interface RaftIdleRow {
  readonly node: string;
  readonly raftRole: string;
  readonly pgRole: string;
  readonly agentCpuSecPerMin: number;
  readonly agentRssMiB: number;
  readonly agentRssAnonMiB: number;
  readonly fenceCpuSecPerMin: number | null;
  readonly fenceRssMiB: number | null;
  /** Raft messages sent plus received per minute (the heartbeats and read-index rounds). */
  readonly raftMsgsPerMin: number | null;
  /** Forwarded client requests sent plus served per minute. */
  readonly requestsPerMin: number | null;
  /** Raft log entries appended during the interval (an idle cluster should append none). */
  readonly logEntries: number | null;
}

interface RaftView {
  readonly role?: string;
  readonly last_index?: number;
  readonly traffic?: { messages_sent: number; messages_received: number; requests_sent: number; requests_served: number };
}

const raftView = async (n: LocalCluster['nodes'][number]): Promise<RaftView> => (await n.api('/raft').catch(() => ({ body: {} }))).body as RaftView;

/** A positive number of seconds from the environment variable `name`, or `fallback` when unset. */
export function envSeconds(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${name}: expected a positive number of seconds, got ${JSON.stringify(text)}`);
  return n;
}

function raftOverrides(): Record<string, unknown> | null {
  const text = process.env.BENCH_RAFT;
  if (text === undefined || text === '') return null;
  let v: unknown;
  try { v = JSON.parse(text); } catch (e) { throw new Error(`BENCH_RAFT: not JSON (${(e as Error).message}): ${text}`); }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`BENCH_RAFT: expected a JSON object of raft: keys, got ${text}`);
  return v as Record<string, unknown>;
}

/** Transfers Raft leadership to a replica unless a replica already leads; waits until it does. */
async function moveRaftLeaderOffPrimary(cluster: LocalCluster): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const roles = await Promise.all(cluster.nodes.map(async (n) => ({ n, raft: (await raftView(n)).role, primary: (await n.status('/primary')) === 200 })));
    if (roles.some((r) => r.raft === 'leader' && !r.primary)) return;
    if (Date.now() > deadline) throw new Error(`Raft leadership did not move to a replica: ${JSON.stringify(roles.map((r) => [r.n.name, r.raft, r.primary]))}`);
    const leader = roles.find((r) => r.raft === 'leader');
    const target = roles.find((r) => !r.primary && r.raft !== 'leader');
    if (leader && target) {
      // Refused (e.g. the target not caught up yet): the next round asks again.
      await submitJob(leader.n, 'POST', '/raft/transfer-leader', { target: raftAddr(cluster, target.n) }).catch(() => undefined);
    }
    await sleep(2000);
  }
}

export async function benchRaftIdle(): Promise<{ seconds: number; settleSeconds: number; rows: RaftIdleRow[] }> {
  const idleS = envSeconds('BENCH_IDLE_S', 120);
  const settleS = envSeconds('BENCH_SETTLE_S', 40);
  const raft = raftOverrides();
  const cluster = await LocalCluster.create({ nodes: 3, ttl: 30, loopWait: 10, retryTimeout: 10, dcsKind: 'raft', scope: 'bench-raft-idle', ...(raft ? { raft } : {}) });
  try {
    cluster.startAll();
    await cluster.waitForHealthy(2);
    if (process.env.BENCH_RAFT_LEADER === 'replica') await moveRaftLeaderOffPrimary(cluster);
    else if (process.env.BENCH_RAFT_LEADER) throw new Error(`BENCH_RAFT_LEADER: expected "replica" or nothing, got ${JSON.stringify(process.env.BENCH_RAFT_LEADER)}`);
    await sleep(settleS * 1000);
    const before = await Promise.all(cluster.nodes.map(raftView));
    const idle = await measureIdle(cluster, [], idleS);
    const rows = await Promise.all(cluster.nodes.map(async (n, i): Promise<RaftIdleRow> => {
      const f = idle.nodes[i] as NodeFootprint;
      const raft = await raftView(n);
      const b = before[i]!;
      const perMin = (x: number | undefined, y: number | undefined) => (x === undefined || y === undefined ? null : Math.round(((x - y) * 60) / idleS));
      const t = raft.traffic;
      const bt = b.traffic;
      const primary = (await n.status('/primary')) === 200;
      return {
        node: n.name, raftRole: raft.role ?? '?', pgRole: primary ? 'primary' : 'replica',
        agentCpuSecPerMin: f.agentCpuSecPerMin, agentRssMiB: f.agentRssMiB, agentRssAnonMiB: f.agentRssAnonMiB,
        fenceCpuSecPerMin: f.fenceCpuSecPerMin, fenceRssMiB: f.fenceRssMiB,
        raftMsgsPerMin: t && bt ? perMin(t.messages_sent + t.messages_received, bt.messages_sent + bt.messages_received) : null,
        requestsPerMin: t && bt ? perMin(t.requests_sent + t.requests_served, bt.requests_sent + bt.requests_served) : null,
        logEntries: raft.last_index !== undefined && b.last_index !== undefined ? raft.last_index - b.last_index : null,
      };
    }));
    // A CPU profile (AGENT_NODE_ARGS="--cpu-prof ...") is written only when the agent exits on its own.
    if ((process.env.AGENT_NODE_ARGS ?? '').includes('--cpu-prof')) await Promise.all(cluster.nodes.map((n) => n.stop()));
    return { seconds: idleS, settleSeconds: settleS, rows };
  } finally {
    await cluster.destroy();
  }
}
