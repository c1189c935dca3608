/**
 * Summaries and tables for the failover benchmark, next to the figures Patroni 3.0.2 reached on these
 * machines (../shared/reference/anchors.md; the numbers are facts measured there, copied as data).
 */
import type { IdleFootprint } from './footprint.js';

export type ScenarioName = 'node-death' | 'graceful-stop' | 'switchover' | 'pg-crash';
export type ProfileName = 'fast' | 'default';

/** One measured failover. Times in seconds from the fault. */
export interface RunResult {
  readonly profile: ProfileName;
  readonly scenario: ScenarioName;
  readonly run: number;
  readonly oldPrimary: string;
  readonly newPrimary: string;
  /** Fault to the first successful `pg_is_in_recovery() = false` on the new primary (20 ms polls). */
  readonly writableS: number;
  /** Longest gap between two acknowledged client writes during the run (Writer.maxGapMs). */
  readonly maxWriteGapS: number;
  readonly acked: number;
  /** Acknowledged ids missing on the final primary (up to 20 listed). */
  readonly lost: number;
  readonly lostIds: readonly number[];
  /** Switchover only: when POST /switchover answered, and its status. */
  readonly switchoverCallS?: number;
  readonly switchoverStatus?: number;
}

interface Anchor { readonly writable: string; readonly gap: string; readonly lost: string }

/** Patroni 3.0.2, median (min-max) seconds, from anchors.md. */
export const PATRONI: Record<ProfileName, Record<ScenarioName, Anchor>> = {
  fast: {
    'node-death': { writable: '9.81 (9.34-10.27)', gap: '10.38', lost: '0' },
    'graceful-stop': { writable: '2.36 (1.60-2.46)', gap: '4.18', lost: '0' },
    switchover: { writable: '1.64 (1.61-1.76), call 2.08', gap: '4.18', lost: '0' },
    'pg-crash': { writable: '3.14 (2.13-4.56)', gap: '3.22', lost: '0' },
  },
  default: {
    'node-death': { writable: '24.84 (21.78-25.23)', gap: '-', lost: '1 of 145 once' },
    'graceful-stop': { writable: '2.39 (1.99-2.51)', gap: '-', lost: '0' },
    switchover: { writable: '1.62 (1.60-1.67)', gap: '-', lost: '0' },
    'pg-crash': { writable: '6.29 (6.11-6.42)', gap: '-', lost: '0' },
  },
};

/** The best peer per row where anchors.md gives one (pg_auto_failover's PostgreSQL crash). */
export const BEST_PEER: Partial<Record<ScenarioName, string>> = {
  'pg-crash': 'pg_auto_failover 0.30',
  switchover: 'Patroni 1.64',
};

export const PATRONI_IDLE = {
  fast: { rssMiB: 59.5, cpuSecPerMinAllAgents: 0.27, dcsRequestsPerMinAllAgents: 93 },
  default: { rssMiB: 59.5, cpuSecPerMinAllAgents: 0.06, dcsRequestsPerMinAllAgents: 21 },
} as const;

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (!s.length) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** "median (min-max)" with two decimals; just the value for one sample. */
export function spread(xs: readonly number[]): string {
  if (!xs.length) return '-';
  const f = (x: number) => x.toFixed(2);
  return xs.length === 1 ? f(xs[0]!) : `${f(median(xs))} (${f(Math.min(...xs))}-${f(Math.max(...xs))})`;
}

export interface SummaryRow {
  readonly profile: ProfileName;
  readonly scenario: ScenarioName;
  readonly n: number;
  readonly writableS: string;
  readonly patroniWritableS: string;
  readonly maxWriteGapS: string;
  readonly patroniGapS: string;
  readonly lostOfAcked: string;
  readonly notes: string;
}

/** One row per profile and scenario that has runs, in the order they were run. */
export function summarise(runs: readonly RunResult[]): SummaryRow[] {
  const keys = [...new Set(runs.map((r) => `${r.profile}/${r.scenario}`))];
  return keys.map((k) => {
    const rs = runs.filter((r) => `${r.profile}/${r.scenario}` === k);
    const first = rs[0]!;
    const anchor = PATRONI[first.profile][first.scenario];
    const notes: string[] = [];
    const inPlace = rs.filter((r) => r.newPrimary === r.oldPrimary).length;
    if (inPlace) notes.push(`${inPlace}/${rs.length} restarted in place`);
    const calls = rs.flatMap((r) => (r.switchoverCallS !== undefined ? [r.switchoverCallS] : []));
    if (calls.length) notes.push(`call returned ${spread(calls)} s (HTTP ${rs.map((r) => r.switchoverStatus).join(',')})`);
    return {
      profile: first.profile,
      scenario: first.scenario,
      n: rs.length,
      writableS: spread(rs.map((r) => r.writableS)),
      patroniWritableS: anchor.writable,
      maxWriteGapS: spread(rs.map((r) => r.maxWriteGapS)),
      patroniGapS: anchor.gap,
      lostOfAcked: `${rs.reduce((a, r) => a + r.lost, 0)} of ${rs.reduce((a, r) => a + r.acked, 0)}`,
      notes: notes.join('; '),
    };
  });
}

/** Idle rows per node plus an all-agents total, next to Patroni's idle figures. */
export function idleRows(profile: ProfileName, idle: IdleFootprint): Record<string, string | number>[] {
  const rows: Record<string, string | number>[] = idle.nodes.map((n) => ({
    node: n.node,
    'agent RSS MiB': n.agentRssMiB,
    'agent CPU s/min': n.agentCpuSecPerMin,
    'fence RSS MiB': n.fenceRssMiB ?? '-',
    'fence CPU s/min': n.fenceCpuSecPerMin ?? '-',
    'DCS req/min': n.dcsRequestsPerMin,
    'DCS calls/min': n.dcsCallsPerMin,
    'DCS bytes/min': n.dcsBytesPerMin,
  }));
  const sum = (f: (n: IdleFootprint['nodes'][number]) => number) => +idle.nodes.reduce((a, n) => a + f(n), 0).toFixed(3);
  const p = PATRONI_IDLE[profile];
  rows.push({
    node: 'all agents',
    'agent RSS MiB': +(sum((n) => n.agentRssMiB) / Math.max(1, idle.nodes.length)).toFixed(1),
    'agent CPU s/min': sum((n) => n.agentCpuSecPerMin),
    'fence RSS MiB': '-',
    'fence CPU s/min': sum((n) => n.fenceCpuSecPerMin ?? 0),
    'DCS req/min': sum((n) => n.dcsRequestsPerMin),
    'DCS calls/min': sum((n) => n.dcsCallsPerMin),
    'DCS bytes/min': sum((n) => n.dcsBytesPerMin),
  });
  rows.push({
    node: 'Patroni 3.0.2',
    'agent RSS MiB': p.rssMiB,
    'agent CPU s/min': p.cpuSecPerMinAllAgents,
    'fence RSS MiB': '-',
    'fence CPU s/min': '-',
    'DCS req/min': p.dcsRequestsPerMinAllAgents,
    'DCS calls/min': '-',
    'DCS bytes/min': '-',
  });
  return rows;
}
