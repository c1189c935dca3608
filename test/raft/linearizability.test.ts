import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { checkLinearizable } from './sim/linearizability.js';
import { kvModel, type KvOperation } from './sim/kv-model.js';
import type { KvInput, KvOutput } from './sim/kv.js';

const op = (client: number, input: KvInput, output: KvOutput | undefined, call: number, ret: number): KvOperation => ({ client, input, output, call, ret });
const put = (value: string) => ({ kind: 'put', key: 'x', value }) as const;
const get = { kind: 'get', key: 'x' } as const;
const cas = (expected: string | null, value: string) => ({ kind: 'cas', key: 'x', expected, value }) as const;
const ok = (h: KvOperation[]) => checkLinearizable(kvModel, h).ok;

describe('linearizability checker', () => {
  test('sequential write then read of that value is linearizable', () => {
    assert.equal(ok([op(0, put('a'), 'ok', 1, 2), op(1, get, 'a', 3, 4)]), true);
  });

  test('a read after a completed write that returns the old value is not', () => {
    assert.equal(ok([op(0, put('a'), 'ok', 1, 2), op(1, get, null, 3, 4)]), false);
  });

  test('a read concurrent with a write may see either value', () => {
    assert.equal(ok([op(0, put('a'), 'ok', 1, 4), op(1, get, null, 2, 3)]), true);
    assert.equal(ok([op(0, put('a'), 'ok', 1, 4), op(1, get, 'a', 2, 3)]), true);
  });

  test('two reads may not see a concurrent write in opposite orders', () => {
    // r1 sees the new value and finishes; r2 starts later and sees the old one.
    const h = [op(0, put('a'), 'ok', 1, 10), op(1, get, 'a', 2, 3), op(2, get, null, 4, 5)];
    assert.equal(ok(h), false);
  });

  test('cas results must agree with the order of writes', () => {
    assert.equal(ok([op(0, put('a'), 'ok', 1, 2), op(1, cas('a', 'b'), true, 3, 4), op(2, get, 'b', 5, 6)]), true);
    assert.equal(ok([op(0, put('a'), 'ok', 1, 2), op(1, cas('a', 'b'), false, 3, 4)]), false);
    // Two concurrent cas from the same value cannot both succeed.
    assert.equal(ok([op(0, put('a'), 'ok', 1, 2), op(1, cas('a', 'b'), true, 3, 6), op(2, cas('a', 'c'), true, 4, 5)]), false);
  });

  test('a write with unknown outcome may have happened late, or never', () => {
    const pending = op(0, put('a'), undefined, 1, Infinity);
    assert.equal(ok([pending, op(1, get, null, 2, 3), op(1, get, 'a', 4, 5)]), true);
    assert.equal(ok([pending, op(1, get, null, 2, 3)]), true);
    // But once seen, it cannot be unseen.
    assert.equal(ok([pending, op(1, get, 'a', 2, 3), op(1, get, null, 4, 5)]), false);
  });

  test('keys are checked independently and a failure names its partition', () => {
    const y = { kind: 'get', key: 'y' } as const;
    const res = checkLinearizable(kvModel, [op(0, put('a'), 'ok', 1, 2), op(1, y, 'zzz', 3, 4)]);
    assert.equal(res.ok, false);
    assert.equal(res.partitions, 2);
    assert.equal(res.failedPartition, 1);
  });

  test('a long history built from a sequential run with jittered intervals is accepted quickly', () => {
    // Operations take effect at points 10, 20, 30...; each interval spans its point with jitter,
    // so neighbours overlap. Linearizable by construction; memoisation keeps the search small.
    let seed = 12345;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % n);
    let value: string | null = null;
    const h: KvOperation[] = [];
    for (let i = 1; i <= 300; i++) {
      const input: KvInput = rand(2) === 0 ? put(`v${i}`) : rand(2) === 0 ? get : cas(value, `v${i}`);
      const output: KvOutput = input.kind === 'put' ? 'ok' : input.kind === 'get' ? value : true;
      if (input.kind !== 'get') value = input.value;
      h.push(op(i % 4, input, output, 10 * i - rand(15), 10 * i + rand(15)));
    }
    const t0 = performance.now();
    assert.equal(ok(h), true);
    assert.ok(performance.now() - t0 < 2000);
  });

  test('a search that exceeds its step budget reports exhaustion instead of hanging', () => {
    const h: KvOperation[] = [];
    for (let i = 0; i < 40; i++) h.push(op(i, put(`v${i}`), 'ok', 1 + i, 1000 + i));
    h.push(op(99, get, 'v-never-written', 2000, 2001));
    const res = checkLinearizable(kvModel, h, 10_000);
    assert.equal(res.ok, false);
    assert.equal(res.exhausted, true);
  });
});
