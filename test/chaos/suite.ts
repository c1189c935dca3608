/**
 * The short chaos test files' suite: a list of scenarios run in order on one strict synchronous
 * chaos cluster (chaos-cluster.ts), one node:test test per scenario.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { LocalCluster } from '../support/cluster.js';
import { CHAOS_MAX_LAG_BYTES, CHAOS_TTL_S, chaosCluster } from './chaos-cluster.js';
import { formatFailure, formatSummary, runScenario, type ChaosDcs, type ChaosMode, type Scenario } from './harness.js';
import { runSeed } from './rng.js';

/**
 * A describe() block running `scenarios` once each, in strict synchronous mode, on one cluster:
 * each test asserts zero split-brain windows, zero lost acknowledged writes and that the cluster
 * healed. The seed is printed first (CHAOS_SEED replays it).
 */
export function strictChaosSuite(title: string, scope: string, scenarios: readonly Scenario[], dcs: ChaosDcs = 'etcd3'): void {
  const seed = runSeed();
  if (scenarios.length === 0) {
    describe(title, { skip: 'CHAOS_ONLY selects none of this file\'s scenarios' }, () => undefined);
    return;
  }
  describe(title, { timeout: 420_000 }, () => {
    let c: LocalCluster | undefined;
    before(async () => {
      console.log(`chaos seed ${seed} (replay with CHAOS_SEED=${seed})`);
      c = await chaosCluster('strict', scope, dcs);
    });
    after(async () => { await c?.destroy(); });

    scenarios.forEach((s, i) => {
      test(s.name, async () => {
        assert.ok(c, 'the cluster was created');
        const r = await runScenario(c, s, { mode: 'strict', seed, round: 1, firstId: i * 1_000_000 + 1, ttlMs: CHAOS_TTL_S * 1000, maxLagBytes: CHAOS_MAX_LAG_BYTES });
        if (r.failures.length) {
          console.log(formatFailure(s, r));
          console.log(c.dumpLogs(80));
        } else {
          console.log(formatSummary(r));
          if (process.env.CHAOS_VERBOSE) console.log(r.timeline);
        }
        assert.deepEqual(r.splitBrain, [], 'no split-brain window');
        assert.equal(r.lostWrites + r.lostProbes, 0, 'no acknowledged write lost');
        assert.deepEqual(r.failures, [], `scenario ${s.name} (seed ${seed})`);
      });
    });
  });
}
