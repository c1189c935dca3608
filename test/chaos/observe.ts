/**
 * What the chaos harness watches besides writes: each node's role as its REST API reports it
 * (GET /patroni every 250 ms, changes go to the timeline), and whether the cluster has healed: one
 * primary, and every other member streaming from it.
 */
import { performance } from 'node:perf_hooks';
import type { AgentNode } from '../support/cluster.js';
import { sleep } from '../support/ports.js';
import type { Timeline } from './timeline.js';

const POLL_MS = 250;

/** "primary/running", "replica/starting", "down" (no answer within a second). */
async function roleOf(node: AgentNode): Promise<string> {
  try {
    const r = await fetch(`${node.apiBase}/patroni`, { signal: AbortSignal.timeout(1000) });
    const b = (await r.json()) as { role?: unknown; state?: unknown };
    const role = b.role === 'master' ? 'primary' : String(b.role ?? '?');
    return `${role}/${String(b.state ?? '?')}`;
  } catch { return 'down'; }
}

/** Polls every node's role on its own loop (a frozen node must not delay the others). */
export class RoleWatcher {
  private running = false;
  private loops: Promise<void>[] = [];
  readonly current = new Map<string, string>();
  constructor(private readonly nodes: readonly AgentNode[], private readonly timeline: Timeline) {}

  start(): void {
    this.running = true;
    this.loops = this.nodes.map((n) => this.watch(n));
  }

  private async watch(n: AgentNode): Promise<void> {
    while (this.running) {
      const t = performance.now();
      const role = await roleOf(n);
      const was = this.current.get(n.name);
      if (role !== was) {
        this.timeline.add(`${n.name}: ${was ?? '(start)'} -> ${role}`, t);
        this.current.set(n.name, role);
      }
      await sleep(Math.max(0, POLL_MS - (performance.now() - t)));
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }
}

export interface HealthReport {
  readonly healthy: boolean;
  readonly primary: AgentNode | null;
  /** Why not healthy, for the timeline and the failure message. */
  readonly why: string;
}

/**
 * One look at the cluster: exactly one node answers /primary 200, every other node answers
 * /replica 200 and appears as 'streaming' in the primary's pg_stat_replication; with `needSync`,
 * one of them is also its synchronous standby (strict mode takes no write without one).
 */
export async function checkHealth(nodes: readonly AgentNode[], needSync: boolean): Promise<HealthReport> {
  const primaries: AgentNode[] = [];
  for (const n of nodes) if ((await n.status('/primary')) === 200) primaries.push(n);
  if (primaries.length !== 1) return { healthy: false, primary: null, why: `${primaries.length} nodes answer /primary 200 (${primaries.map((p) => p.name).join(', ') || 'none'})` };
  const primary = primaries[0]!;
  const others = nodes.filter((n) => n !== primary);
  for (const n of others) if ((await n.status('/replica')) !== 200) return { healthy: false, primary, why: `${n.name} does not answer /replica 200` };
  let rows: { application_name: string; state: string; sync_state: string }[];
  try {
    rows = await primary.query('SELECT application_name, state, sync_state FROM pg_stat_replication');
  } catch (e) { return { healthy: false, primary, why: `pg_stat_replication on ${primary.name}: ${String(e)}` }; }
  for (const n of others) {
    if (!rows.some((r) => r.application_name === n.name && r.state === 'streaming')) return { healthy: false, primary, why: `${n.name} is not streaming from ${primary.name}` };
  }
  if (needSync) {
    // Both PostgreSQL and /sync: while /sync names nobody (right after bootstrap or a failover,
    // synchronous_standby_names '*') no replica may promote, so a fault then cannot fail over.
    const named = await syncStandbys(primary);
    const confirmed = named.filter((name) => rows.some((r) => r.application_name === name && r.sync_state === 'sync'));
    if (confirmed.length === 0) return { healthy: false, primary, why: `${primary.name} has no synchronous standby that /sync names (/sync: ${named.join(', ') || 'none'})` };
  }
  return { healthy: true, primary, why: 'healthy' };
}

/** Members /sync names, as GET /cluster on `node` shows them (role sync_standby); [] if it does not answer. */
export async function syncStandbys(node: AgentNode): Promise<string[]> {
  try {
    const body = (await node.api('/cluster')).body as { members?: Array<{ name: string; role: string }> };
    return (body.members ?? []).filter((m) => m.role === 'sync_standby').map((m) => m.name);
  } catch { return []; }
}

/**
 * Poll checkHealth until healthy or `boundMs` passes; returns the last report either way. Each new
 * reason for not being healthy goes to `timeline`, so a slow heal shows what it waited for.
 */
export async function waitHealthy(nodes: readonly AgentNode[], needSync: boolean, boundMs: number, timeline?: Timeline): Promise<HealthReport> {
  const end = performance.now() + boundMs;
  let last: HealthReport = { healthy: false, primary: null, why: 'not checked yet' };
  while (performance.now() < end) {
    const t = performance.now();
    const now = await checkHealth(nodes, needSync);
    if (now.healthy) return now;
    if (now.why !== last.why) timeline?.add(`not healed yet: ${now.why}`, t);
    last = now;
    await sleep(500);
  }
  return last;
}
