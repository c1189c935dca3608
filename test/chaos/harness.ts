/**
 * The chaos harness. runScenario() takes a healthy cluster through one fault and checks the three
 * promises on it:
 *   - no split brain: the prober (prober.ts) never sees two nodes accept writes at overlapping times;
 *   - no lost acknowledged writes: every id the writer (ack-writer.ts) got an acknowledgement for,
 *     and every accepted probe token, is on the final primary (a failure in strict synchronous mode;
 *     counted and compared with maximum_lag_on_failover in async mode);
 *   - the cluster heals: within `healBoundMs` after the fault is removed there is one primary, every
 *     other member streams from it, and writes go through again.
 * Everything seen is kept on a timeline; a failed run prints it with the scenario, mode, round and
 * seed, which replays the same random choices (CHAOS_SEED, CHAOS_ONLY).
 */
import { performance } from 'node:perf_hooks';
import type { AgentNode, LocalCluster } from '../support/cluster.js';
import { sleep, waitFor } from '../support/ports.js';
import { AckWriter, lostWalBytes } from './ack-writer.js';
import { checkHealth, RoleWatcher, syncStandbys, waitHealthy } from './observe.js';
import { SplitBrainProber, type SplitBrainWindow } from './prober.js';
import { restoreAll } from './restore.js';
import { scenarioRng, type ChaosRng } from './rng.js';
import { Timeline } from './timeline.js';

export type ChaosMode = 'strict' | 'async';

/** What a scenario's fault() and heal() get. */
export interface ChaosContext {
  readonly cluster: LocalCluster;
  readonly nodes: readonly AgentNode[];
  /** The primary when the scenario started. */
  readonly primary: AgentNode;
  readonly rng: ChaosRng;
  readonly mode: ChaosMode;
  readonly ttlMs: number;
  /** Add an event to the timeline. */
  note(what: string): void;
  /** Nodes the fault stopped or killed; heal() usually starts them again. */
  readonly victims: AgentNode[];
}

export interface Scenario {
  readonly name: string;
  /** The correct outcome, printed with a failure. */
  readonly expected: string;
  /** Inject the fault (and, for faults that last, keep it for its duration). */
  fault(ctx: ChaosContext): Promise<void>;
  /** Remove the fault. Always runs after fault(), even when fault() threw. */
  heal?(ctx: ChaosContext): Promise<void>;
  /** The longest write gap this fault may cause (ms); none: not checked. */
  readonly maxWriteGapMs?: number;
  /** The DCS the fault needs (etcd's proxies or etcd itself; the built-in Raft leader); none: any. */
  readonly needs?: ChaosDcs;
}

export type ChaosDcs = 'etcd3' | 'raft';

export interface ScenarioResult {
  readonly scenario: string;
  readonly mode: ChaosMode;
  readonly round: number;
  readonly seed: number;
  readonly splitBrain: readonly SplitBrainWindow[];
  /** Acknowledged writer ids and accepted probe tokens missing on the final primary. */
  readonly lostWrites: number;
  readonly lostProbes: number;
  readonly lostWalBytes: bigint;
  readonly acked: number;
  readonly maxWriteGapMs: number;
  /** From the removal of the fault to a healthy cluster; null when it did not heal. */
  readonly healMs: number | null;
  /** Empty when the run passed. */
  readonly failures: readonly string[];
  /** Notes that are not failures (async losses within or over the bound). */
  readonly warnings: readonly string[];
  readonly timeline: string;
}

export interface RunOptions {
  readonly mode: ChaosMode;
  readonly seed: number;
  readonly round: number;
  /** First writer id (unique per run on a shared cluster). */
  readonly firstId: number;
  readonly healBoundMs?: number;
  readonly ttlMs?: number;
  /** maximum_lag_on_failover of the cluster, bytes. */
  readonly maxLagBytes?: number;
}

const DEFAULT_HEAL_BOUND_MS = 90_000;

/** Run one scenario on a cluster that should already be healthy; never throws for a failed check. */
export async function runScenario(cluster: LocalCluster, s: Scenario, o: RunOptions): Promise<ScenarioResult> {
  const timeline = new Timeline();
  const failures: string[] = [];
  const strict = o.mode === 'strict';
  await restoreAll(cluster);
  const ready = await waitHealthy(cluster.nodes, strict, DEFAULT_HEAL_BOUND_MS);
  if (!ready.healthy || !ready.primary) return notStarted(s, o, timeline, `the cluster was not healthy before the scenario: ${ready.why}`);
  const primary = ready.primary;
  timeline.add(`healthy: ${primary.name} is primary${strict ? `, /sync names ${(await syncStandbys(primary)).join(', ')}` : ''}`);
  try {
    await SplitBrainProber.prepare(primary);
    await AckWriter.prepare(primary);
  } catch (e) {
    return notStarted(s, o, timeline, `could not create the checkers' tables on ${primary.name}: ${String(e)}`);
  }

  const roles = new RoleWatcher(cluster.nodes, timeline);
  const prober = new SplitBrainProber(cluster.nodes, `${s.name}-${o.mode}-${o.round}-${o.seed}`);
  const writer = new AckWriter(cluster.nodes, o.firstId);
  const ctx: ChaosContext = {
    cluster, nodes: cluster.nodes, primary, rng: scenarioRng(o.seed, s.name, o.round), mode: o.mode,
    ttlMs: o.ttlMs ?? 10_000, note: (what) => timeline.add(what), victims: [],
  };
  roles.start();
  prober.start();
  writer.start();
  let healMs: number | null = null;
  try {
    await waitFor('writes before the fault', () => writer.acked.length >= 20 && prober.accepted.length >= 5, 20_000, 50)
      .catch(() => { throw new Error(`writes do not go through before the fault (${writer.acked.length} acknowledged)`); });
    healMs = await injectAndHeal(s, ctx, timeline, failures, o.healBoundMs ?? DEFAULT_HEAL_BOUND_MS);
    if (healMs !== null) await writesResume(writer, timeline, failures);
  } catch (e) {
    failures.push(String(e instanceof Error ? e.message : e));
  } finally {
    await writer.stop();
    await prober.stop();
    await roles.stop();
  }
  return finish(cluster, s, o, { timeline, failures, prober, writer, healMs });
}

/** fault(), then heal() whatever happened, then wait for the cluster to heal; returns heal ms or null. */
async function injectAndHeal(s: Scenario, ctx: ChaosContext, timeline: Timeline, failures: string[], boundMs: number): Promise<number | null> {
  timeline.add(`fault: ${s.name} begins`);
  try {
    await s.fault(ctx);
  } catch (e) {
    // Still remove whatever part of the fault happened, and still require the cluster to heal.
    failures.push(`the fault could not be carried out: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    await s.heal?.(ctx);
    timeline.add(`fault: ${s.name} removed`);
  }
  const removedAt = performance.now();
  const h = await waitHealthy(ctx.nodes, ctx.mode === 'strict', boundMs, timeline);
  if (!h.healthy) {
    failures.push(`the cluster did not heal within ${boundMs / 1000} s of the fault's removal: ${h.why}`);
    return null;
  }
  timeline.add(`healed: ${h.primary!.name} is primary, every other member streams from it`);
  return performance.now() - removedAt;
}

/** After healing, writes must be acknowledged again (strict mode: only once a sync standby is back). */
async function writesResume(writer: AckWriter, timeline: Timeline, failures: string[]): Promise<void> {
  const before = writer.acked.length;
  try {
    await waitFor('writes after healing', () => writer.acked.length >= before + 10, 30_000, 50);
    timeline.add('writes go through after healing');
  } catch {
    failures.push(`writes do not go through within 30 s after the cluster healed (${writer.acked.length - before} acknowledged)`);
  }
}

interface Observed {
  readonly timeline: Timeline;
  readonly failures: string[];
  readonly prober: SplitBrainProber;
  readonly writer: AckWriter;
  readonly healMs: number | null;
}

/** The checks that need the final primary, the timeline's write events, and the result. */
async function finish(cluster: LocalCluster, s: Scenario, o: RunOptions, ob: Observed): Promise<ScenarioResult> {
  const { timeline, failures, prober, writer } = ob;
  const warnings: string[] = [];
  for (const [node, fl] of prober.firstLast()) {
    timeline.add(`${node}: first accepted probe write (${fl.count} in all)`, fl.first.sent);
    timeline.add(`${node}: last accepted probe write`, fl.last.acked);
  }
  if (writer.maxGapMs > 1000) timeline.add(`writer: longest gap without an acknowledgement begins (${(writer.maxGapMs / 1000).toFixed(2)} s)`, writer.maxGapAt);
  const windows = prober.windows();
  for (const w of windows) {
    timeline.add(`SPLIT BRAIN: ${w.nodes.join(' and ')} accept writes until ${timeline.rel(w.to)}`, w.from);
    failures.push(`split brain: ${w.nodes.join(' and ')} both accepted writes from ${timeline.rel(w.from)} to ${timeline.rel(w.to)} (${(w.to - w.from).toFixed(0)} ms)`);
  }
  if (s.maxWriteGapMs !== undefined && writer.maxGapMs > s.maxWriteGapMs) {
    failures.push(`write outage of ${(writer.maxGapMs / 1000).toFixed(2)} s, more than the ${s.maxWriteGapMs / 1000} s this fault may cause`);
  }
  const lost = await lostWrites(cluster, o, writer, prober, failures, warnings).catch((e: unknown) => {
    failures.push(`lost writes could not be checked: ${String(e)}`);
    return { writes: -1, probes: -1, walBytes: 0n };
  });
  return {
    scenario: s.name, mode: o.mode, round: o.round, seed: o.seed, splitBrain: windows,
    lostWrites: lost.writes, lostProbes: lost.probes, lostWalBytes: lost.walBytes,
    acked: writer.acked.length, maxWriteGapMs: writer.maxGapMs, healMs: ob.healMs,
    failures, warnings, timeline: timeline.format(),
  };
}

async function lostWrites(cluster: LocalCluster, o: RunOptions, writer: AckWriter, prober: SplitBrainProber, failures: string[], warnings: string[]): Promise<{ writes: number; probes: number; walBytes: bigint }> {
  const now = await checkHealth(cluster.nodes, false);
  if (!now.primary) {
    failures.push(`lost writes not checked: no single primary at the end (${now.why})`);
    return { writes: -1, probes: -1, walBytes: 0n };
  }
  // The final primary may still be replaying: read from it after every acknowledged write could be there.
  await sleep(200);
  const missing = await writer.missingOn(now.primary);
  const missingProbes = await prober.missingOn(now.primary);
  const walBytes = lostWalBytes(writer.acked, missing);
  if (missing.length + missingProbes.length > 0) {
    const what = `${missing.length} acknowledged writes (ids ${missing.slice(0, 5).map((w) => `${w.id}@${w.node}`).join(', ')}${missing.length > 5 ? ', ...' : ''}) and ${missingProbes.length} accepted probe writes are not on the final primary ${now.primary.name}; lost WAL about ${walBytes} bytes`;
    if (o.mode === 'strict') failures.push(`lost writes in strict synchronous mode: ${what}`);
    else {
      const bound = BigInt(o.maxLagBytes ?? 1_048_576);
      warnings.push(`async: ${what}, ${walBytes <= bound ? 'within' : 'OVER'} maximum_lag_on_failover (${bound} bytes)`);
    }
  }
  return { writes: missing.length, probes: missingProbes.length, walBytes };
}

function notStarted(s: Scenario, o: RunOptions, timeline: Timeline, why: string): ScenarioResult {
  return {
    scenario: s.name, mode: o.mode, round: o.round, seed: o.seed, splitBrain: [], lostWrites: 0, lostProbes: 0,
    lostWalBytes: 0n, acked: 0, maxWriteGapMs: 0, healMs: null, failures: [why], warnings: [], timeline: timeline.format(),
  };
}

/** The failure report: scenario, seed, how to replay, what failed, the expected outcome and the timeline. */
export function formatFailure(s: Scenario, r: ScenarioResult): string {
  return [
    `chaos FAILED: ${r.scenario} (mode ${r.mode}, round ${r.round}, seed ${r.seed}; replay: CHAOS_SEED=${r.seed} CHAOS_ONLY=${r.scenario})`,
    ...r.failures.map((f) => `  - ${f}`),
    ...r.warnings.map((w) => `  (note) ${w}`),
    `  expected: ${s.expected}`,
    'timeline:',
    r.timeline,
  ].join('\n');
}

/** The one-line summary of a passed run. */
export function formatSummary(r: ScenarioResult): string {
  const heal = r.healMs === null ? 'did not heal' : `healed ${(r.healMs / 1000).toFixed(1)} s after the fault was removed`;
  return `measured: chaos ${r.scenario} (${r.mode}, seed ${r.seed}): ${heal}, ${r.acked} writes acknowledged, `
    + `longest write gap ${(r.maxWriteGapMs / 1000).toFixed(2)} s, lost ${r.lostWrites} + ${r.lostProbes} probes, split-brain windows ${r.splitBrain.length}`;
}
