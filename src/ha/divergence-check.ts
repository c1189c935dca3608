/**
 * "Does following `leader` need pg_rewind?", asked of PostgreSQL (src/postgres/divergence.ts) with
 * the agent's caching rules: asked when about to (re)start following a leader, and while following
 * it until one check gave a verdict. A check made while the new leader was still promoting cannot
 * tell (null); a standby whose WAL ran past the fork point would otherwise follow that leader
 * forever without streaming (found by the chaos suite, restart-all). An undecided answer is reused
 * for at most 5 s, so an unreachable leader does not slow every cycle.
 */
import { performance } from 'node:perf_hooks';
import type { ClusterView } from '../dcs/types.js';
import type { PostgresControl } from '../postgres/index.js';
import type { PgProbe } from '../postgres/types.js';
import { connOf } from './executor.js';

const UNDECIDED_REUSE_MS = 5000;

export class DivergenceCheck {
  private cache: { key: string; value: boolean | null; at: number } | null = null;
  /** The leader a check last cleared (verdict: no rewind needed). */
  private clearedFor: string | null = null;

  constructor(private readonly pg: PostgresControl, private readonly self: string) {}

  /** true: rewind first; false: safe to follow; null: cannot tell (or nothing to follow). */
  async needsRewind(view: ClusterView, probe: PgProbe, leader: string | null, busy: boolean): Promise<boolean | null> {
    if (leader === null || leader === this.self || probe.dataDir !== 'initialized' || busy) return null;
    if (probe.running && probe.inRecovery && probe.following === leader && this.clearedFor === leader) return false;
    const key = `${leader}|${view.leader?.version}|${probe.timeline}|${probe.running}`;
    const c = this.cache;
    if (c?.key === key && (c.value !== null || performance.now() - c.at < UNDECIDED_REUSE_MS)) return c.value;
    let value: boolean | null = null;
    try { value = await this.pg.needsRewind(connOf(view, leader)); } catch { value = null; }
    this.cache = { key, value, at: performance.now() };
    this.clearedFor = value === false ? leader : null;
    return value;
  }
}
