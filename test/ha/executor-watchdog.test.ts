/**
 * The executor's guards around promotion: watchdog.mode required refuses to promote without an armed
 * device, and a failing pre_promote script hands the lock back and keeps out of the race for ttl.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { Dcs } from '../../src/dcs/port.js';
import { EMPTY_CLUSTER } from '../../src/dcs/types.js';
import { Executor, PlanAborted, type ExecutorHost } from '../../src/ha/executor.js';
import type { PostgresControl } from '../../src/postgres/index.js';

function host(armResult: string | null, preCode: number | null = null) {
  const calls: string[] = [];
  let refusedUntil = -Infinity;
  let now = 0;
  const h: ExecutorHost = {
    dcs: {
      deleteLeader: async () => { calls.push('deleteLeader'); return true; },
      attemptToAcquireLeader: async () => { calls.push('acquire'); return true; },
    } as unknown as Dcs,
    pg: { promote: async () => { calls.push('promote'); } } as unknown as PostgresControl,
    log: pino({ level: 'silent' }),
    name: 'a',
    loopWaitSeconds: 1,
    bootstrapDcs: () => ({}),
    setHoldsLock: (held) => calls.push(`holdsLock=${held}`),
    setTask: () => undefined,
    setRewindFailed: () => undefined,
    wakeup: () => undefined,
    mono: () => now,
    markNotPrimary: () => undefined,
    armWatchdog: () => { calls.push('arm'); return armResult; },
    sync: {} as ExecutorHost['sync'],
    recordDivergedWal: () => undefined,
    hook: async (name) => {
      calls.push(name);
      return preCode === null ? null : { code: preCode, timedOut: false, output: '' };
    },
    promoteRefusedUntil: () => refusedUntil,
    refusePromotion: () => { refusedUntil = now + 10_000; },
    noteRestart: () => undefined,
    isStopping: () => false,
  };
  return { h, calls, advance: (ms: number) => { now += ms; } };
}

test('required watchdog that cannot be armed: no promote, the leader key is released', async () => {
  const { h, calls } = host('watchdog.mode is required and cannot open /dev/watchdog');
  await assert.rejects(new Executor(h).run([{ kind: 'promote' }], EMPTY_CLUSTER), (e: unknown) => e instanceof PlanAborted && /watchdog/.test(e.message));
  assert.deepEqual(calls, ['arm', 'deleteLeader', 'holdsLock=false']);
});

test('an armed (or not required) watchdog lets the promotion through', async () => {
  const { h, calls } = host(null);
  await new Executor(h).run([{ kind: 'promote' }], EMPTY_CLUSTER);
  assert.deepEqual(calls, ['arm', 'pre_promote', 'promote']);
});

test('pre_promote exiting non-zero: no promote, the lock is released, and not taken again for ttl', async () => {
  const { h, calls, advance } = host(null, 1);
  const ex = new Executor(h);
  await assert.rejects(ex.run([{ kind: 'promote' }], EMPTY_CLUSTER), (e: unknown) => e instanceof PlanAborted && /pre_promote exited with 1/.test(e.message));
  assert.deepEqual(calls, ['arm', 'pre_promote', 'deleteLeader', 'holdsLock=false']);
  calls.length = 0;
  advance(9_000);
  await assert.rejects(ex.run([{ kind: 'acquire-lock' }], EMPTY_CLUSTER), /pre_promote failed recently/);
  assert.deepEqual(calls, []);
  advance(2_000);
  await ex.run([{ kind: 'acquire-lock' }], EMPTY_CLUSTER);
  assert.deepEqual(calls, ['acquire', 'holdsLock=true']);
});

test('pre_promote exiting 0 lets the promotion through', async () => {
  const { h, calls } = host(null, 0);
  await new Executor(h).run([{ kind: 'promote' }], EMPTY_CLUSTER);
  assert.deepEqual(calls, ['arm', 'pre_promote', 'promote']);
});
