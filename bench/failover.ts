/**
 * The failover benchmark (issue 5): three real agents, PostgreSQL 15 and one etcd on loopback, each
 * agent reaching etcd through its own counting proxy. For each profile one cluster is started and
 * reused; before each run it must have healed (one primary, two streaming replicas). Per run a client
 * writes every 20 ms through whatever is primary, the fault is injected, and we record the seconds
 * until a new primary accepts a write (20 ms polls), the longest gap between acknowledged writes and
 * the acknowledged writes missing on the final primary. One run is also sampled every 50 ms for the
 * timeline picture. Environment: BENCH_RUNS (runs per scenario; default 3 fast, 1 default),
 * BENCH_PROFILES ("fast,default"), BENCH_SCENARIOS (all four), BENCH_IDLE_S (60; 0 skips),
 * BENCH_TIMELINE (the scenario drawn, "node-death").
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { fencePaths } from '../src/fence/fence.js';
import { LocalCluster, type AgentNode } from '../test/support/cluster.js';
import { sleep, waitFor } from '../test/support/ports.js';
import { Writer } from '../test/support/writer.js';
import { measureIdle, type IdleFootprint } from './footprint.js';
import type { ProfileName, RunResult, ScenarioName } from './failover-report.js';
import { CountingProxy } from './grpc-counter.js';
import { RoleSampler } from './role-sampler.js';
import { renderTimelineSvg, type TimelineInput } from './timeline-svg.js';

export interface Profile { readonly name: ProfileName; readonly ttl: number; readonly loopWait: number; readonly retryTimeout: number; readonly runs: number }

export const SCENARIOS: readonly ScenarioName[] = ['node-death', 'graceful-stop', 'switchover', 'pg-crash'];

export interface FailoverReport {
  readonly at: string;
  readonly runs: RunResult[];
  readonly idle: Partial<Record<ProfileName, IdleFootprint>>;
  readonly errors: string[];
  /** The sampled run drawn as SVG, when one was sampled. */
  timeline: { readonly input: TimelineInput; readonly svg: string } | null;
}

interface Bench { readonly cluster: LocalCluster; readonly proxies: CountingProxy[] }

function envList<T extends string>(key: string, allowed: readonly T[], dflt: readonly T[]): T[] {
  const raw = process.env[key];
  if (!raw) return [...dflt];
  const items = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const it of items) {
    if (!allowed.includes(it as T)) throw new Error(`${key}: unknown value ${JSON.stringify(it)}; expected a comma-separated list of ${allowed.join(', ')}`);
  }
  return items as T[];
}

function envInt(key: string, dflt: number): number {
  const raw = process.env[key];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${key}: expected a whole number >= 0, got ${JSON.stringify(raw)}`);
  return n;
}

export function profilesFromEnv(): Profile[] {
  const runs = process.env.BENCH_RUNS ? envInt('BENCH_RUNS', 1) : null;
  const all: Profile[] = [
    { name: 'fast', ttl: 10, loopWait: 2, retryTimeout: 4, runs: runs ?? 3 },
    { name: 'default', ttl: 30, loopWait: 10, retryTimeout: 10, runs: runs ?? 1 },
  ];
  const chosen = envList<ProfileName>('BENCH_PROFILES', ['fast', 'default'], ['fast', 'default']);
  return all.filter((p) => chosen.includes(p.name));
}

/** Starts a cluster whose agents reach etcd through one counting proxy each. */
async function startBench(p: Profile): Promise<Bench> {
  const cluster = await LocalCluster.create({ nodes: 3, ttl: p.ttl, loopWait: p.loopWait, retryTimeout: p.retryTimeout, scope: `bench-${p.name}` });
  const proxies: CountingProxy[] = [];
  try {
    const [host = '127.0.0.1', port = '0'] = cluster.etcd.endpoint.split(':');
    for (const n of cluster.nodes) {
      const proxy = await new CountingProxy(host, Number(port)).start();
      proxies.push(proxy);
      // The config was written by LocalCluster as JSON; point this node's etcd3 client at its proxy.
      const cfg = JSON.parse(readFileSync(n.configPath, 'utf8')) as { etcd3: { hosts: string[] } };
      cfg.etcd3.hosts = [proxy.endpoint];
      writeFileSync(n.configPath, JSON.stringify(cfg, null, 2));
    }
    cluster.startAll();
    const primary = await cluster.waitForPrimary(120_000);
    await cluster.waitForReplicas(2, 120_000);
    await Writer.prepare(primary);
    return { cluster, proxies };
  } catch (e) {
    await stopBench({ cluster, proxies });
    throw e;
  }
}

async function stopBench(b: Bench): Promise<void> {
  const fenceLogs = b.cluster.nodes.map((n) => fencePaths(b.cluster.scope, n.name, n.dataDir).log);
  await b.cluster.destroy();
  await Promise.all(b.proxies.map((p) => p.close()));
  // LocalCluster removes the fences' state and pid files but leaves their logs in the temp dir.
  for (const f of fenceLogs) rmSync(f, { force: true });
}

/** Waits until every agent runs, one node is primary and the two others stream from it. */
async function heal(c: LocalCluster): Promise<AgentNode> {
  for (const n of c.nodes) n.start();
  await c.waitForReplicas(2, 180_000);
  const primary = await c.waitForPrimary(120_000);
  await c.waitForReplicas(2, 60_000);
  return primary;
}

/** Polls the candidates every 20 ms until one accepts writes; returns it and the instant seen. */
async function firstWritable(candidates: readonly AgentNode[], timeoutMs: number): Promise<{ node: AgentNode; at: number }> {
  const end = performance.now() + timeoutMs;
  while (performance.now() < end) {
    const tick = performance.now();
    const ok = await Promise.all(candidates.map((n) => n.writable()));
    const at = performance.now();
    const i = ok.indexOf(true);
    if (i >= 0) return { node: candidates[i]!, at };
    await sleep(Math.max(0, 20 - (at - tick)));
  }
  throw new Error(`no writable primary among ${candidates.map((n) => n.name).join(', ')} within ${timeoutMs} ms`);
}

interface Fault { readonly done: Promise<void>; readonly callS?: () => number | undefined; readonly status?: () => number | undefined }

/** Injects the scenario's fault on `primary`; `done` settles when the fault action itself has ended. */
function inject(s: ScenarioName, c: LocalCluster, primary: AgentNode, t0: number): Fault {
  switch (s) {
    case 'node-death': return { done: primary.killNode() };
    case 'graceful-stop': return { done: primary.stop(60_000) };
    case 'pg-crash':
      if (!primary.killPostgres()) throw new Error(`pg-crash: no postmaster found for ${primary.name}`);
      return { done: Promise.resolve() };
    case 'switchover': {
      const target = c.nodes.find((n) => n !== primary)!;
      let callS: number | undefined;
      let status: number | undefined;
      const done = target.api('/switchover', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ leader: primary.name, candidate: target.name }),
      }).then((r) => { status = r.status; callS = (performance.now() - t0) / 1000; });
      return { done, callS: () => callS, status: () => status };
    }
  }
}

/** One measured failover on a healed cluster. `sampler`, when given, records the roles meanwhile. */
async function runOnce(p: Profile, s: ScenarioName, run: number, c: LocalCluster, sampler: RoleSampler | null): Promise<RunResult> {
  const primary = await heal(c);
  const writer = new Writer(c, 20);
  writer.start();
  sampler?.start();
  try {
    await waitFor('the client to write', () => writer.acked.length >= 10, 20_000, 50);
    await sleep(sampler ? 2000 : 500);
    const t0 = performance.now();
    if (sampler) sampler.origin = t0;
    const fault = inject(s, c, primary, t0);
    const candidates = s === 'pg-crash' ? c.nodes : c.nodes.filter((n) => n !== primary);
    const timeoutMs = (p.ttl * 3 + 60) * 1000;
    const found = await firstWritable(candidates, timeoutMs);
    const writableS = (found.at - t0) / 1000;
    // Let the client land writes on the new primary, so its outage ends inside the run.
    const ackedAtPromotion = writer.acked.length;
    await waitFor('writes on the new primary', () => writer.acked.length >= ackedAtPromotion + 10, 60_000, 50);
    await fault.done.catch((e: unknown) => { throw new Error(`${s}: the fault action failed: ${String(e)}`); });
    if (sampler) await sleep(2000);
    await writer.stop();
    const missing = await writer.missingOn(found.node);
    const callS = fault.callS?.();
    return {
      profile: p.name, scenario: s, run, oldPrimary: primary.name, newPrimary: found.node.name,
      writableS: +writableS.toFixed(3), maxWriteGapS: +(writer.maxGapMs / 1000).toFixed(3),
      acked: writer.acked.length, lost: missing.length, lostIds: missing.slice(0, 20),
      ...(callS !== undefined ? { switchoverCallS: +callS.toFixed(3), switchoverStatus: fault.status?.() ?? 0 } : {}),
    };
  } finally {
    await writer.stop();
  }
}

function log(msg: string): void { console.error(`[bench failover ${new Date().toISOString().slice(11, 19)}] ${msg}`); }

/** Runs one profile: idle footprint first (the cluster is fresh and quiet), then every scenario. */
async function runProfile(p: Profile, report: FailoverReport, idleS: number, drawScenario: ScenarioName, scenarios: readonly ScenarioName[]): Promise<void> {
  log(`profile ${p.name}: starting a cluster (ttl ${p.ttl}, loop_wait ${p.loopWait}, retry_timeout ${p.retryTimeout})`);
  const b = await startBench(p);
  try {
    if (idleS > 0) {
      // Let bootstrap-time traffic (replica clones, first slots and keys) settle: two loops, 5-20 s.
      await sleep(Math.min(20_000, Math.max(5000, 2 * p.loopWait * 1000)));
      log(`profile ${p.name}: idle footprint over ${idleS} s`);
      report.idle[p.name] = await measureIdle(b.cluster, b.proxies, idleS);
    }
    for (const s of scenarios) {
      for (let run = 1; run <= p.runs; run++) {
        const draw = report.timeline === null && s === drawScenario;
        const sampler = draw ? new RoleSampler(b.cluster.nodes) : null;
        try {
          const r = await runOnce(p, s, run, b.cluster, sampler);
          report.runs.push(r);
          log(`${p.name} ${s} #${run}: ${r.oldPrimary} -> ${r.newPrimary} writable after ${r.writableS.toFixed(2)} s, max gap ${r.maxWriteGapS.toFixed(2)} s, lost ${r.lost}/${r.acked}`);
          if (sampler) {
            const input: TimelineInput = {
              title: `${s} (${p.name} profile: ttl ${p.ttl}, loop_wait ${p.loopWait}, retry_timeout ${p.retryTimeout}); roles from GET /patroni every 50 ms`,
              nodes: await sampler.stop(),
              promotedAt: r.writableS,
              promotedNode: r.newPrimary,
            };
            report.timeline = { input, svg: renderTimelineSvg(input) };
          }
        } catch (e) {
          const msg = `${p.name} ${s} #${run}: ${e instanceof Error ? e.message : String(e)}`;
          report.errors.push(msg);
          log(`FAILED ${msg}\n${b.cluster.dumpLogs(30)}`);
        } finally {
          await sampler?.stop();
        }
      }
    }
  } finally {
    await stopBench(b);
  }
}

/** Runs the whole benchmark as configured by the environment (see the file comment). */
export async function benchFailover(): Promise<FailoverReport> {
  const report: FailoverReport = { at: new Date().toISOString(), runs: [], idle: {}, errors: [], timeline: null };
  const idleS = envInt('BENCH_IDLE_S', 60);
  const scenarios = envList<ScenarioName>('BENCH_SCENARIOS', SCENARIOS, SCENARIOS);
  const [drawScenario = 'node-death'] = envList<ScenarioName>('BENCH_TIMELINE', SCENARIOS, ['node-death']);
  for (const p of profilesFromEnv()) await runProfile(p, report, idleS, drawScenario, scenarios);
  return report;
}
