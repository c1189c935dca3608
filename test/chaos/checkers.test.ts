/**
 * The chaos checkers' pure parts (no cluster): the split-brain overlap finder, the lost-WAL
 * estimate, LSN parsing, the seeded PRNG and the CHAOS_* environment parsing. The suites rely on
 * these to fail when they should, so each case here is one a broken checker would get wrong.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lostWalBytes, parseLsn, type AckedWrite } from './ack-writer.js';
import { findOverlaps } from './prober.js';
import { ChaosRng, runSeed, scenarioRng } from './rng.js';
import { ALL_SCENARIOS, selectScenarios } from './scenarios.js';

const w = (node: string, sent: number, acked: number) => ({ node, sent, acked });

describe('split-brain overlap finder', () => {
  test('a clean handover (old primary stops, then the new one starts) is no split brain', () => {
    const writes = [w('a', 0, 5), w('a', 100, 104), w('a', 200, 203), w('b', 5000, 5010), w('b', 5100, 5105)];
    assert.deepEqual(findOverlaps(writes), []);
  });

  test("one node's writes never overlap each other, however slow", () => {
    assert.deepEqual(findOverlaps([w('a', 0, 3000), w('a', 10, 20), w('a', 2999, 4000)]), []);
  });

  test('two nodes accepting writes at overlapping times give one window, from the later start to the earlier end', () => {
    const writes = [w('a', 0, 10), w('a', 100, 180), w('b', 150, 160), w('a', 300, 310)];
    assert.deepEqual(findOverlaps(writes), [{ from: 150, to: 160, nodes: ['a', 'b'] }]);
  });

  test('a write that blocks for long on the old primary overlaps a short one on the new primary', () => {
    const writes = [w('a', 0, 4000), w('b', 2500, 2510)];
    assert.deepEqual(findOverlaps(writes), [{ from: 2500, to: 2510, nodes: ['a', 'b'] }]);
  });

  test('touching overlaps merge into one window naming every node involved; separate ones stay apart', () => {
    const writes = [w('a', 0, 100), w('b', 50, 80), w('c', 70, 120), w('a', 1000, 1010), w('b', 1005, 1020)];
    assert.deepEqual(findOverlaps(writes), [
      { from: 50, to: 100, nodes: ['a', 'b', 'c'] },
      { from: 1005, to: 1010, nodes: ['a', 'b'] },
    ]);
  });

  test('input order does not matter', () => {
    const writes = [w('b', 150, 160), w('a', 300, 310), w('a', 100, 180)];
    assert.deepEqual(findOverlaps(writes), [{ from: 150, to: 160, nodes: ['a', 'b'] }]);
  });
});

describe('lost writes', () => {
  test('parseLsn reads both halves as hex', () => {
    assert.equal(parseLsn('0/3000060'), 0x3000060n);
    assert.equal(parseLsn('16/B374D848'), (0x16n << 32n) + 0xb374d848n);
    assert.throws(() => parseLsn('3000060'), /expected an LSN such as "0\/3000060", got "3000060"/);
  });

  const ack = (id: number, node: string, lsn: bigint | null): AckedWrite => ({ id, node, at: id, lsn });

  test('the lost WAL span runs from the last surviving write of that node before the first lost one', () => {
    const all = [ack(1, 'a', 1000n), ack(2, 'a', 1100n), ack(3, 'a', 1200n), ack(4, 'a', 1350n), ack(5, 'b', 90n)];
    const lost = [all[2]!, all[3]!];
    assert.equal(lostWalBytes(all, lost), 1350n - 1100n);
  });

  test('nothing lost is 0 bytes; writes without a position do not count', () => {
    const all = [ack(1, 'a', 1000n), ack(2, 'a', null)];
    assert.equal(lostWalBytes(all, []), 0n);
    assert.equal(lostWalBytes(all, [all[1]!]), 0n);
  });
});

describe('seeded randomness and CHAOS_* settings', () => {
  test('one seed replays the same choices; a scenario or round changes them', () => {
    const draw = (r: ChaosRng) => Array.from({ length: 8 }, () => r.intBetween(0, 1_000_000));
    assert.deepEqual(draw(scenarioRng(42, 'stop-etcd', 1)), draw(scenarioRng(42, 'stop-etcd', 1)));
    assert.notDeepEqual(draw(scenarioRng(42, 'stop-etcd', 1)), draw(scenarioRng(42, 'stop-etcd', 2)));
    assert.notDeepEqual(draw(scenarioRng(42, 'stop-etcd', 1)), draw(scenarioRng(42, 'isolate-primary', 1)));
  });

  test('intBetween stays within both ends and reaches them', () => {
    const r = new ChaosRng(7);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const v = r.intBetween(3, 6);
      assert.ok(v >= 3 && v <= 6, `out of range: ${v}`);
      seen.add(v);
    }
    assert.deepEqual([...seen].sort(), [3, 4, 5, 6]);
  });

  test('CHAOS_SEED is used as given, and a bad one is refused naming the value', () => {
    assert.equal(runSeed({ CHAOS_SEED: '123' }), 123);
    assert.throws(() => runSeed({ CHAOS_SEED: 'abc' }), /CHAOS_SEED: expected an unsigned 32-bit integer, got "abc"/);
    const a = runSeed({});
    assert.ok(Number.isInteger(a) && a >= 0 && a < 2 ** 32);
  });

  test('CHAOS_ONLY selects scenarios by name and refuses unknown names', () => {
    assert.equal(selectScenarios('').length, ALL_SCENARIOS.length);
    assert.deepEqual(selectScenarios('stop-etcd, restart-all').map((s) => s.name), ['stop-etcd', 'restart-all']);
    assert.throws(() => selectScenarios('stop-etc'), /CHAOS_ONLY: no scenario "stop-etc"; expected one of kill-primary-node/);
  });

  test('scenario names are unique (they key the PRNG and the replay)', () => {
    assert.equal(new Set(ALL_SCENARIOS.map((s) => s.name)).size, ALL_SCENARIOS.length);
  });
});
