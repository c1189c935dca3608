import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { CallbackRunner, LifecycleObserver, runScript, splitCommand, transitions } from '../../src/ha/callbacks.js';

const log = pino({ level: 'silent' });

describe('splitCommand', () => {
  test('splits like a POSIX shell, without expansion', () => {
    assert.deepEqual(splitCommand('/bin/cb.sh --x 1'), ['/bin/cb.sh', '--x', '1']);
    assert.deepEqual(splitCommand(`a 'b c' "d \\"e\\"" f\\ g ''`), ['a', 'b c', 'd "e"', 'f g', '']);
    assert.deepEqual(splitCommand('  x   $HOME  '), ['x', '$HOME']);
  });
  test('an unterminated quote is an error naming the command', () => {
    assert.throws(() => splitCommand(`echo 'oops`), /unterminated ' quote in command: echo 'oops/);
  });
});

describe('transitions', () => {
  const up = (role: 'master' | 'replica') => ({ running: true, role });
  const down = (role: 'master' | 'replica') => ({ running: false, role });
  test('first sight of a running PostgreSQL is on_start', () => {
    assert.deepEqual(transitions(null, up('replica')), [['on_start', 'replica']]);
  });
  test('a stop is on_stop with the old role; nothing while it stays down', () => {
    assert.deepEqual(transitions(up('master'), down('master')), [['on_stop', 'master']]);
    assert.deepEqual(transitions(down('master'), down('master')), []);
  });
  test('a promotion is on_role_change master, and suppresses on_start after a stop', () => {
    assert.deepEqual(transitions(up('replica'), up('master')), [['on_role_change', 'master']]);
    assert.deepEqual(transitions(down('master'), up('replica')), [['on_role_change', 'replica']]);
  });
  test('restarts are on_restart; unchanged state fires nothing', () => {
    assert.deepEqual(transitions(up('replica'), up('replica'), true), [['on_restart', 'replica']]);
    assert.deepEqual(transitions(up('replica'), up('replica')), []);
  });
});

describe('CallbackRunner with a real script', () => {
  const dir = mkdtempSync(join(tmpdir(), 'orch-cb-'));
  const logFile = join(dir, 'cb.log');
  const script = join(dir, 'cb.sh');
  writeFileSync(script, `#!/bin/sh\nsleep "$SLEEP"\necho "$1 $2 $3" >> ${logFile}\n[ "$2" = replica ] && exit 3\nexit 0\n`);
  chmodSync(script, 0o755);
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

  test('event callbacks run one at a time, in order, to completion, with action, role and scope', async () => {
    rmSync(logFile, { force: true });
    const cmd = `env SLEEP=0.2 ${script}`;
    const r = new CallbackRunner({ commands: { callbacks: { on_start: cmd, on_role_change: cmd, on_stop: cmd } }, scope: 'batman', log });
    r.fire('on_start', 'replica');
    r.fire('on_role_change', 'master');
    r.fire('on_stop', 'master');
    r.fire('on_reload', 'master'); // not configured: ignored
    await r.close();
    assert.equal(readFileSync(logFile, 'utf8'), 'on_start replica batman\non_role_change master batman\non_stop master batman\n');
    assert.deepEqual(r.finished.map((f) => f.result.code), [3, 0, 0]);
  });

  test('a callback that hangs is killed at its timeout and the next one still runs', async () => {
    rmSync(logFile, { force: true });
    const r = new CallbackRunner({ commands: { callbacks: { on_start: `env SLEEP=30 ${script}`, on_stop: `env SLEEP=0 ${script}` } }, scope: 's', log, callbackTimeoutMs: 300 });
    const t0 = Date.now();
    r.fire('on_start', 'master');
    r.fire('on_stop', 'master');
    await r.close();
    assert.ok(Date.now() - t0 < 5000);
    assert.equal(r.finished[0]?.result.timedOut, true);
    assert.equal(readFileSync(logFile, 'utf8'), 'on_stop master s\n');
  });

  test('the queue keeps the newest events when it overflows', async () => {
    rmSync(logFile, { force: true });
    const r = new CallbackRunner({ commands: { callbacks: { on_role_change: `env SLEEP=0.3 ${script}` } }, scope: 's', log, maxQueue: 1 });
    r.fire('on_role_change', 'master'); // starts at once
    r.fire('on_role_change', 'replica'); // dropped
    r.fire('on_role_change', 'master');
    await r.close();
    assert.equal(readFileSync(logFile, 'utf8'), 'on_role_change master s\non_role_change master s\n');
  });

  test('hooks report the exit code; a missing program is an error, not a crash', async () => {
    const r = new CallbackRunner({ commands: { pre_promote: `env SLEEP=0 ${script}`, before_stop: join(dir, 'missing') }, scope: 's', log });
    assert.equal((await r.hook('pre_promote', 'replica', 5000))?.code, 3);
    assert.equal((await r.hook('pre_promote', 'master', 5000))?.code, 0);
    const missing = await r.hook('before_stop', 'master', 5000);
    assert.equal(missing?.code, null);
    assert.match(missing?.error ?? '', /ENOENT/);
    assert.equal(await new CallbackRunner({ commands: {}, scope: 's', log }).hook('pre_promote', 'master', 1000), null);
  });

  test('runScript kills the whole process group at the timeout', async () => {
    const r = await runScript(['/bin/sh', '-c', 'sleep 30 & sleep 30'], 200);
    assert.equal(r.timedOut, true);
  });
});

describe('LifecycleObserver', () => {
  test('a replica promoted, restarted by the agent, then stopped at shutdown', () => {
    const fired: string[] = [];
    const runner = { fire: (a: string, r: string) => fired.push(`${a} ${r}`) } as unknown as CallbackRunner;
    const o = new LifecycleObserver(runner);
    o.observe(false, false); // cloning: nothing yet
    o.observe(true, false);
    o.observe(true, false);
    o.observe(true, true);
    o.noteRestart();
    o.observe(true, true);
    o.stopped();
    o.stopped();
    assert.deepEqual(fired, ['on_start replica', 'on_role_change master', 'on_restart master', 'on_stop master']);
  });
});
