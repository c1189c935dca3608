/**
 * The split-brain checker. Every 100 ms it writes a unique token to EVERY node's PostgreSQL
 * directly (not through the cluster), and records for each write that the server accepted the
 * interval [sent, acked]: the commit happened somewhere inside it. Two writes accepted by different
 * nodes with overlapping intervals mean two nodes took writes at the same time (split brain); the
 * overlapping stretch is reported as the window. Replicas refuse the writes (read-only), so before,
 * during and after any fault at most one node may show accepted writes at any instant.
 *
 * The accepted tokens double as acknowledged writes: each must also be on the final primary.
 */
import { performance } from 'node:perf_hooks';
import type { AgentNode } from '../support/cluster.js';
import { sleep } from '../support/ports.js';
import { Link } from './link.js';

export const PROBE_TABLE = 'chaos_probe';
const EVERY_MS = 100;

export interface AcceptedWrite {
  readonly node: string;
  readonly token: string;
  /** performance.now() when the INSERT was sent and when its success came back. */
  readonly sent: number;
  readonly acked: number;
}

/** A stretch of time during which two or more nodes accepted writes. */
export interface SplitBrainWindow {
  readonly from: number;
  readonly to: number;
  readonly nodes: readonly string[];
}

export class SplitBrainProber {
  readonly accepted: AcceptedWrite[] = [];
  private running = false;
  private loops: Promise<void>[] = [];

  /** `tag` makes the tokens unique across scenarios and rounds on one cluster. */
  constructor(private readonly nodes: readonly AgentNode[], private readonly tag: string) {}

  static async prepare(primary: AgentNode): Promise<void> {
    await primary.query(`CREATE TABLE IF NOT EXISTS ${PROBE_TABLE} (token text PRIMARY KEY, node text NOT NULL, at timestamptz DEFAULT clock_timestamp())`);
  }

  start(): void {
    this.running = true;
    this.loops = this.nodes.map((n) => this.probe(n));
  }

  private async probe(node: AgentNode): Promise<void> {
    // Replicas refuse every probe; keep those ERROR lines (10 a second) out of the server log.
    const link = new Link(node, 5000, 'SET log_min_messages = fatal; SET log_min_error_statement = panic');
    let seq = 0;
    try {
      while (this.running) {
        const token = `${this.tag}:${node.name}:${seq++}`;
        const sent = performance.now();
        const r = await link.run(`INSERT INTO ${PROBE_TABLE} (token, node) VALUES ($1, $2)`, [token, node.name]);
        const acked = performance.now();
        if (r.ok) this.accepted.push({ node: node.name, token, sent, acked });
        await sleep(Math.max(r.ok || r.sqlState !== null ? 0 : EVERY_MS, EVERY_MS - (acked - sent)));
      }
    } finally { link.drop(); }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
  }

  /** First and last accepted write of each node that accepted any. */
  firstLast(): Map<string, { first: AcceptedWrite; last: AcceptedWrite; count: number }> {
    const out = new Map<string, { first: AcceptedWrite; last: AcceptedWrite; count: number }>();
    for (const w of this.accepted) {
      const e = out.get(w.node);
      if (!e) out.set(w.node, { first: w, last: w, count: 1 });
      else out.set(w.node, { first: w.sent < e.first.sent ? w : e.first, last: w.acked > e.last.acked ? w : e.last, count: e.count + 1 });
    }
    return out;
  }

  /** Every stretch where accepted writes of different nodes overlap, merged; empty when none. */
  windows(): SplitBrainWindow[] {
    return findOverlaps(this.accepted);
  }

  /** Tokens accepted by some node that are not in `primary`'s table (lost acknowledged writes). */
  async missingOn(primary: AgentNode): Promise<AcceptedWrite[]> {
    const rows = await primary.query<{ token: string }>(`SELECT token FROM ${PROBE_TABLE} WHERE token LIKE $1`, [`${this.tag}:%`]);
    const have = new Set(rows.map((r) => r.token));
    return this.accepted.filter((w) => !have.has(w.token));
  }
}

/**
 * Overlaps between intervals of different nodes (exported for its unit test). Sweeps the intervals
 * by start time, keeping those still open; each overlap is [later start, earlier end], and
 * overlapping or touching overlaps are merged into one window naming all nodes involved.
 */
export function findOverlaps(writes: readonly Pick<AcceptedWrite, 'node' | 'sent' | 'acked'>[]): SplitBrainWindow[] {
  const sorted = [...writes].sort((a, b) => a.sent - b.sent);
  const open: Pick<AcceptedWrite, 'node' | 'sent' | 'acked'>[] = [];
  const raw: SplitBrainWindow[] = [];
  for (const w of sorted) {
    for (let i = open.length - 1; i >= 0; i--) if (open[i]!.acked < w.sent) open.splice(i, 1);
    for (const o of open) {
      if (o.node !== w.node) raw.push({ from: w.sent, to: Math.min(o.acked, w.acked), nodes: [o.node, w.node] });
    }
    open.push(w);
  }
  const merged: { from: number; to: number; nodes: Set<string> }[] = [];
  for (const r of raw.sort((a, b) => a.from - b.from)) {
    const last = merged[merged.length - 1];
    if (last && r.from <= last.to) {
      last.to = Math.max(last.to, r.to);
      for (const n of r.nodes) last.nodes.add(n);
    } else merged.push({ from: r.from, to: r.to, nodes: new Set(r.nodes) });
  }
  return merged.map((m) => ({ from: m.from, to: m.to, nodes: [...m.nodes].sort() }));
}
