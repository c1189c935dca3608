/**
 * The long chaos suite (`npm run chaos`): every scenario CHAOS_ROUNDS times (default 3) in async and
 * in strict synchronous mode, one cluster per mode, then a table per scenario and mode. Exits 1 on
 * any failed check: a split brain, a lost acknowledged write in strict mode, a cluster that did not
 * heal within the bound; in async mode lost writes are reported (with their WAL span against
 * maximum_lag_on_failover), not failures. Exits 2 on a bad CHAOS_* setting.
 *
 * Environment: CHAOS_SEED (replay), CHAOS_ROUNDS, CHAOS_ONLY (comma-separated scenario names),
 * CHAOS_MODES ("async,strict" by default), CHAOS_VERBOSE=1 (print every run's timeline), CHAOS_DCS
 * ("etcd3" by default, or "raft": the built-in Raft DCS; each runs the scenarios its DCS allows).
 */
import type { LocalCluster } from '../support/cluster.js';
import { formatFailure, formatSummary, runScenario, type ChaosDcs, type ChaosMode, type Scenario, type ScenarioResult } from './harness.js';
import { runSeed } from './rng.js';
import { selectScenarios } from './scenarios.js';
import { CHAOS_MAX_LAG_BYTES, CHAOS_TTL_S, chaosCluster } from './chaos-cluster.js';

function envInt(name: string, fallback: number): number {
  const text = process.env[name];
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: expected a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

function modes(): ChaosMode[] {
  const text = process.env.CHAOS_MODES ?? 'async,strict';
  const list = text.split(',').map((m) => m.trim()).filter(Boolean);
  for (const m of list) if (m !== 'async' && m !== 'strict') throw new Error(`CHAOS_MODES: expected "async" and/or "strict", got ${JSON.stringify(m)}`);
  return list as ChaosMode[];
}

function chaosDcs(): ChaosDcs {
  const text = process.env.CHAOS_DCS ?? 'etcd3';
  if (text !== 'etcd3' && text !== 'raft') throw new Error(`CHAOS_DCS: expected "etcd3" or "raft", got ${JSON.stringify(text)}`);
  return text;
}

/**
 * A run that broke a promise: split brain, a lost write in strict mode, no healing, writes that do
 * not resume, a replica fault that stopped writes. Async lost writes are warnings, not failures.
 */
function broken(r: ScenarioResult): boolean {
  return r.failures.length > 0;
}

/** All rounds of every scenario in one mode, on one cluster (a fresh one after a run that did not heal). */
async function runMode(mode: ChaosMode, scenarios: readonly Scenario[], rounds: number, seed: number, dcs: ChaosDcs): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  let cluster: LocalCluster | null = null;
  let nextId = 1;
  try {
    for (let round = 1; round <= rounds; round++) {
      for (const s of scenarios) {
        cluster ??= await chaosCluster(mode, `chaos-long-${mode}`, dcs);
        const r = await runScenario(cluster, s, { mode, seed, round, firstId: nextId, ttlMs: CHAOS_TTL_S * 1000, maxLagBytes: CHAOS_MAX_LAG_BYTES });
        nextId += 1_000_000;
        results.push(r);
        report(s, r, cluster);
        if (r.healMs === null) {
          await cluster.destroy();
          cluster = null;
        }
      }
    }
  } finally {
    await cluster?.destroy();
  }
  return results;
}

function report(s: Scenario, r: ScenarioResult, cluster: LocalCluster): void {
  if (r.failures.length) {
    console.log(formatFailure(s, r));
    console.log(cluster.dumpLogs(80));
    return;
  }
  console.log(formatSummary(r));
  for (const w of r.warnings) console.log(`  (note) ${w}`);
  if (process.env.CHAOS_VERBOSE) console.log(r.timeline);
}

const secs = (ms: number): string => (ms / 1000).toFixed(1);

/** One row per scenario and mode. */
function table(results: readonly ScenarioResult[]): string {
  const head = ['scenario', 'mode', 'rounds', 'split-brain windows', 'lost writes', 'lost WAL max (B)', 'max write gap (s)', 'heal max (s)', 'failed runs'];
  const rows: string[][] = [];
  const keys = [...new Set(results.map((r) => `${r.scenario}|${r.mode}`))];
  for (const k of keys) {
    const rs = results.filter((r) => `${r.scenario}|${r.mode}` === k);
    const healed = rs.filter((r) => r.healMs !== null).map((r) => r.healMs!);
    rows.push([
      rs[0]!.scenario, rs[0]!.mode, String(rs.length),
      String(rs.reduce((n, r) => n + r.splitBrain.length, 0)),
      String(rs.reduce((n, r) => n + Math.max(0, r.lostWrites) + Math.max(0, r.lostProbes), 0)),
      String(rs.reduce((m, r) => (r.lostWalBytes > m ? r.lostWalBytes : m), 0n)),
      secs(Math.max(...rs.map((r) => r.maxWriteGapMs))),
      healed.length === rs.length ? secs(Math.max(...healed)) : `${rs.length - healed.length} did not heal`,
      String(rs.filter((r) => r.failures.length > 0).length),
    ]);
  }
  const width = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(width[i]!)).join('  ');
  return [line(head), width.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

async function main(): Promise<number> {
  const seed = runSeed();
  const rounds = envInt('CHAOS_ROUNDS', 3);
  const dcs = chaosDcs();
  const scenarios = selectScenarios().filter((s) => s.needs === undefined || s.needs === dcs);
  const ms = modes();
  console.log(`chaos (long): seed ${seed} (replay with CHAOS_SEED=${seed}), ${rounds} rounds, modes ${ms.join(', ')}, DCS ${dcs}, ${scenarios.length} scenarios`);
  const results: ScenarioResult[] = [];
  for (const mode of ms) results.push(...(await runMode(mode, scenarios, rounds, seed, dcs)));
  console.log(`\n${table(results)}`);
  const bad = results.filter(broken);
  console.log(bad.length === 0 ? '\nchaos: every promise kept' : `\nchaos: ${bad.length} runs broke a promise (seed ${seed}): ${bad.map((r) => `${r.scenario}/${r.mode}#${r.round}`).join(', ')}`);
  return bad.length === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(2);
});
