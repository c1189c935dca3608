/**
 * Samples every node's role from GET /patroni every 50 ms, for the failover timeline picture. A node
 * whose REST API does not answer within 400 ms is "down"; one whose PostgreSQL is not running is
 * "pg not running" whatever its role; Patroni's old name "master" is shown as "primary".
 */
import { performance } from 'node:perf_hooks';
import type { AgentNode } from '../test/support/cluster.js';
import type { RoleSample } from './timeline-svg.js';

export const SAMPLE_EVERY_MS = 50;

async function roleOf(node: AgentNode): Promise<string> {
  try {
    const r = await fetch(`${node.apiBase}/patroni`, { signal: AbortSignal.timeout(400) });
    const body = (await r.json()) as { role?: unknown; state?: unknown };
    if (body.state !== 'running') return 'pg not running';
    const role = typeof body.role === 'string' ? body.role : 'unknown';
    return role === 'master' ? 'primary' : role;
  } catch { return 'down'; }
}

export class RoleSampler {
  readonly samples: Map<string, RoleSample[]>;
  private timer: NodeJS.Timeout | null = null;
  private readonly busy = new Set<string>();
  private readonly inFlight = new Set<Promise<void>>();

  /** `origin` is the performance.now() instant that becomes t = 0 (set it at the fault). */
  origin = performance.now();

  constructor(private readonly nodes: readonly AgentNode[]) {
    this.samples = new Map(nodes.map((n) => [n.name, []]));
  }

  start(): void {
    this.timer = setInterval(() => this.tick(), SAMPLE_EVERY_MS);
  }

  /** One sample per node; a node whose previous request is still pending is skipped this tick. */
  private tick(): void {
    const at = performance.now();
    for (const n of this.nodes) {
      if (this.busy.has(n.name)) continue;
      this.busy.add(n.name);
      const p = roleOf(n).then((role) => {
        this.samples.get(n.name)!.push({ t: at, role });
        this.busy.delete(n.name);
      });
      this.inFlight.add(p);
      void p.finally(() => this.inFlight.delete(p));
    }
  }

  /** Stops sampling; returns each node's samples with t in seconds relative to `origin`, in order. */
  async stop(): Promise<{ name: string; samples: RoleSample[] }[]> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all([...this.inFlight]);
    return this.nodes.map((n) => ({
      name: n.name,
      samples: this.samples.get(n.name)!
        .map((s) => ({ t: +((s.t - this.origin) / 1000).toFixed(3), role: s.role }))
        .sort((a, b) => a.t - b.t),
    }));
  }
}
