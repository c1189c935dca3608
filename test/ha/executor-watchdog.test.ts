/** watchdog.mode required: the executor refuses to promote without an armed device and hands the lock back. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { Dcs } from '../../src/dcs/port.js';
import { EMPTY_CLUSTER } from '../../src/dcs/types.js';
import { Executor, PlanAborted, type ExecutorHost } from '../../src/ha/executor.js';
import type { PostgresControl } from '../../src/postgres/index.js';

function host(armResult: string | null) {
  const calls: string[] = [];
  const h: ExecutorHost = {
    dcs: { deleteLeader: async () => { calls.push('deleteLeader'); return true; } } as unknown as Dcs,
    pg: { promote: async () => { calls.push('promote'); } } as unknown as PostgresControl,
    log: pino({ level: 'silent' }),
    name: 'a',
    loopWaitSeconds: 1,
    bootstrapDcs: () => ({}),
    setHoldsLock: (held) => calls.push(`holdsLock=${held}`),
    setTask: () => undefined,
    setRewindFailed: () => undefined,
    wakeup: () => undefined,
    mono: () => 0,
    markNotPrimary: () => undefined,
    armWatchdog: () => { calls.push('arm'); return armResult; },
    sync: {} as ExecutorHost['sync'],
    recordDivergedWal: () => undefined,
  };
  return { h, calls };
}

test('required watchdog that cannot be armed: no promote, the leader key is released', async () => {
  const { h, calls } = host('watchdog.mode is required and cannot open /dev/watchdog');
  await assert.rejects(new Executor(h).run([{ kind: 'promote' }], EMPTY_CLUSTER), (e: unknown) => e instanceof PlanAborted && /watchdog/.test(e.message));
  assert.deepEqual(calls, ['arm', 'deleteLeader', 'holdsLock=false']);
});

test('an armed (or not required) watchdog lets the promotion through', async () => {
  const { h, calls } = host(null);
  await new Executor(h).run([{ kind: 'promote' }], EMPTY_CLUSTER);
  assert.deepEqual(calls, ['arm', 'promote']);
});
