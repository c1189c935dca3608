/**
 * Randomized deterministic simulation (see sim/random-run.ts). Each seed is one reproducible run.
 *   RAFT_SEEDS=20000 node --test dist/test/raft/simulation.test.js   # soak
 *   SEED=123 node --test dist/test/raft/simulation.test.js           # replay one seed, full trail
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runSeed, type RunResult } from './sim/random-run.js';

const single = process.env.SEED;
const count = Number(process.env.RAFT_SEEDS ?? 1000);
const first = Number(process.env.RAFT_FIRST_SEED ?? 1);

function report(r: RunResult, tailLines: number): string {
  const trail = r.trail.slice(-tailLines).join('\n');
  return `seed ${r.seed} failed: ${r.error}\nreplay: SEED=${r.seed} node --test dist/test/raft/simulation.test.js\n--- event trail (last ${tailLines}) ---\n${trail}`;
}

if (single !== undefined) {
  test(`simulation: replay seed ${single}`, () => {
    const r = runSeed(Number(single), { traceMessages: true });
    if (!r.ok) console.log(report(r, r.trail.length));
    assert.ok(r.ok, `seed ${single}: ${r.error}`);
  });
} else {
  test(`simulation: ${count} seeds keep every safety invariant, stay live after healing, and stay linearizable`, () => {
    const totals = { ops: 0, completed: 0, leaders: 0, snapshots: 0, promotions: 0, removals: 0, transfers: 0 };
    for (let seed = first; seed < first + count; seed++) {
      const r = runSeed(seed);
      if (!r.ok) assert.fail(report(r, 200));
      totals.ops += r.stats.ops;
      totals.completed += r.stats.completed;
      totals.leaders += r.stats.leaders;
      for (const line of r.trail) {
        if (line.includes('installed snapshot')) totals.snapshots++;
        else if (line.includes('proposed promoting')) totals.promotions++;
        else if (/propose remove \S+: index/.test(line)) totals.removals++;
        else if (line.includes('transfer to') && line.includes('started')) totals.transfers++;
      }
    }
    // The runs must actually exercise the features, or passing proves little.
    const n = count;
    assert.ok(totals.completed > 20 * n, `only ${totals.completed} client operations completed`);
    assert.ok(totals.leaders > 2 * n, `only ${totals.leaders} elections`);
    if (n >= 100) {
      for (const k of ['snapshots', 'promotions', 'removals', 'transfers'] as const) assert.ok(totals[k] > n / 20, `only ${totals[k]} ${k}`);
    }
  });

  test('simulation: a seed replays identically', () => {
    const a = runSeed(4242);
    const b = runSeed(4242);
    assert.deepEqual(a.trail, b.trail);
    assert.deepEqual(a.stats, b.stats);
  });
}
