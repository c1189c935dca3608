/**
 * The chaos cluster, shared by the short test files and the long script: 3 agents on a real etcd
 * behind one fault proxy per agent (or on the built-in Raft DCS: `dcs` 'raft'), ttl 10 / loop_wait 2
 * / retry_timeout 3, in strict synchronous (synchronous_mode + synchronous_mode_strict) or async mode. No node:test import here: long.ts is
 * a plain script.
 */
import { performance } from 'node:perf_hooks';
import { LocalCluster } from '../support/cluster.js';
import { sleep } from '../support/ports.js';
import type { ChaosDcs, ChaosMode } from './harness.js';
import { checkHealth } from './observe.js';

export const CHAOS_TTL_S = 10;
/** maximum_lag_on_failover LocalCluster puts in bootstrap.dcs (1 MiB). */
export const CHAOS_MAX_LAG_BYTES = 1_048_576;
const START_BOUND_MS = 90_000;

/**
 * Wait until the new cluster is healthy (null), or return why not: the bound passed, or an agent
 * exited (on this shared machine another process can take a port between freePort() and the
 * agent's bind, and waiting 90 s for a dead agent helps nobody).
 */
async function started(c: LocalCluster, needSync: boolean): Promise<string | null> {
  const dead: string[] = [];
  for (const n of c.nodes) void n.proc?.exited.then(() => dead.push(n.name));
  const end = performance.now() + START_BOUND_MS;
  let why = 'not checked yet';
  while (performance.now() < end) {
    if (dead.length) return `agent ${dead.join(', ')} exited during startup`;
    const h = await checkHealth(c.nodes, needSync);
    if (h.healthy) return null;
    why = h.why;
    await sleep(500);
  }
  return `not healthy within ${START_BOUND_MS / 1000} s: ${why}`;
}

/** Create and start a chaos cluster and wait until it is healthy; one more try if the first fails. */
export async function chaosCluster(mode: ChaosMode, scope: string, dcs: ChaosDcs = 'etcd3'): Promise<LocalCluster> {
  for (let attempt = 1; ; attempt++) {
    const c = await LocalCluster.create({
      nodes: 3, ttl: CHAOS_TTL_S, loopWait: 2, retryTimeout: 3, scope,
      ...(dcs === 'raft' ? { dcsKind: 'raft' as const } : { etcdProxies: true }),
      dcs: mode === 'strict' ? { synchronous_mode: true, synchronous_mode_strict: true } : {},
    });
    c.startAll();
    const why = await started(c, mode === 'strict').catch((e: unknown) => String(e));
    if (why === null) return c;
    console.log(`chaos cluster ${scope} (attempt ${attempt}): ${why}\n${c.dumpLogs(40)}`);
    await c.destroy();
    if (attempt >= 2) throw new Error(`chaos cluster ${scope} did not start: ${why}`);
  }
}
