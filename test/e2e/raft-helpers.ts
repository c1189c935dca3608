/**
 * Small helpers shared by the end-to-end tests on the built-in Raft DCS: reading GET /raft, finding
 * the Raft leader, following membership jobs, calling the cluster_mgr Emit endpoint and running ctl.
 * They only read the REST API and PostgreSQL of agents a LocalCluster started; nothing here starts or
 * stops processes except runCtl (a short-lived ctl child that is killed on timeout).
 */
import { execFile } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { CTL, type AgentNode, type LocalCluster } from '../support/cluster.js';
import { waitFor } from '../support/ports.js';

/** GET /raft's body (src/raft/peers.ts RaftDescription), as far as the tests read it. */
export interface RaftView {
  readonly id: string;
  readonly role: string;
  readonly term: number;
  readonly leader: string | null;
  readonly commit: number;
  readonly peers: ReadonlyArray<{ readonly id: string; readonly role: 'voter' | 'learner'; readonly is_leader: boolean }>;
}

/** A job as GET /jobs/{id} answers it. */
export interface JobView {
  readonly id: string;
  readonly kind: string;
  readonly state: 'queued' | 'running' | 'succeeded' | 'failed';
  readonly message: string;
  readonly params: { readonly target?: string; readonly peer?: string };
}

/** GET /raft on `n`, or null when the agent does not answer 200. */
export async function raftView(n: AgentNode): Promise<RaftView | null> {
  const r = await n.api('/raft').catch(() => null);
  return r?.status === 200 ? (r.body as RaftView) : null;
}

/** The voters' ids in a GET /raft answer, sorted. */
export function voters(v: RaftView): string[] {
  return v.peers.filter((p) => p.role === 'voter').map((p) => p.id).sort();
}

/** The node whose agent reports itself Raft leader, or null (none answers so right now). */
export async function raftLeaderNode(c: LocalCluster, among: readonly AgentNode[] = c.nodes): Promise<AgentNode | null> {
  for (const n of among) {
    const v = await raftView(n);
    if (v?.role === 'leader') return n;
  }
  return null;
}

/** The Raft address of a node of the cluster (same index in c.raftAddrs as in c.nodes). */
export function raftAddr(c: LocalCluster, n: AgentNode): string {
  const a = c.raftAddrs[c.nodes.indexOf(n)];
  if (a === undefined) throw new Error(`${n.name} has no raft address`);
  return a;
}

/** Waits for a node other than `old` to accept writes; returns it and the ms since `t0`. */
export async function newWritable(c: LocalCluster, old: AgentNode, t0: number, timeoutMs: number): Promise<[AgentNode, number]> {
  const n = await waitFor('a new writable primary', async () => {
    for (const x of c.nodes) if (x !== old && (await x.writable())) return x;
    return null;
  }, timeoutMs, 20);
  return [n, performance.now() - t0];
}

/** Submits a raft job over REST on `n` (202 expected); returns the queued job. */
export async function submitJob(n: AgentNode, method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<JobView> {
  const init: RequestInit = { method, headers: { 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }) };
  const r = await n.api(path, init);
  if (r.status !== 202) throw new Error(`${method} ${path} on ${n.name}: expected 202, got ${r.status} ${JSON.stringify(r.body)}`);
  return r.body as JobView;
}

/** Polls GET /jobs/{id} on the first answering node of `ask` until the job finishes; returns it. */
export async function waitJob(ask: readonly AgentNode[], id: string, timeoutMs = 40_000): Promise<JobView> {
  return waitFor(`job ${id} to finish`, async () => {
    for (const n of ask) {
      const r = await n.api(`/jobs/${encodeURIComponent(id)}`).catch(() => null);
      if (r?.status !== 200) continue;
      const j = r.body as JobView;
      return j.state === 'succeeded' || j.state === 'failed' ? j : null;
    }
    return null;
  }, timeoutMs, 150);
}

/** Waits until every node of `ask` reports `leader` as Raft leader in GET /raft. */
export async function waitRaftLeaderEverywhere(ask: readonly AgentNode[], leader: string, timeoutMs = 10_000): Promise<void> {
  await waitFor(`every node to report raft leader ${leader}`, async () => {
    for (const n of ask) if ((await raftView(n))?.leader !== leader) return null;
    return true;
  }, timeoutMs, 100);
}

/** The primary's current timeline (from its WAL file name): a promotion anywhere changes it. */
export async function primaryTimeline(n: AgentNode): Promise<number> {
  const r = await n.query<{ f: string }>('SELECT pg_walfile_name(pg_current_wal_lsn()) AS f');
  return parseInt(r[0]!.f.slice(0, 8), 16);
}

/** The names of the standbys streaming from `n` (pg_stat_replication, application_name = member). */
export async function streamingFrom(n: AgentNode): Promise<string[]> {
  const r = await n.query<{ a: string }>("SELECT application_name AS a FROM pg_stat_replication WHERE state = 'streaming' ORDER BY 1");
  return r.map((x) => x.a);
}

/** The seed's Emit request body (Klustron cluster_mgr), with `job_type`, `job_id` and `paras` filled in. */
export function emitBody(jobType: 'raft_mission' | 'get_status', jobId: string, paras: Record<string, string>): Record<string, unknown> {
  return { version: '1.0', job_id: jobId, job_type: jobType, timestamp: '1435749309', user_name: 'kunlun_test', paras };
}

/** POST /HttpService/Emit on `n`. */
export async function emit(n: AgentNode, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await n.api('/HttpService/Emit', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: r.status, body: (typeof r.body === 'object' && r.body !== null ? r.body : { raw: r.body }) as Record<string, unknown> };
}

/** Emit get_status for `jobId` on the first answering node of `ask` until the status is done or failed. */
export async function emitWait(ask: readonly AgentNode[], jobId: string, timeoutMs = 40_000): Promise<Record<string, unknown>> {
  return waitFor(`emit job ${jobId} to finish`, async () => {
    for (const n of ask) {
      const r = await emit(n, emitBody('get_status', jobId, {})).catch(() => null);
      if (r?.status !== 200) continue;
      return r.body['status'] === 'done' || r.body['status'] === 'failed' ? r.body : null;
    }
    return null;
  }, timeoutMs, 150);
}

/** Runs `ctl -c <config> ...args`; never throws on a non-zero exit (returns the code). */
export function runCtl(configPath: string, args: readonly string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CTL, '-c', configPath, ...args], { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
