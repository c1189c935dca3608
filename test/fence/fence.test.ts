/**
 * The fence process (src/fence/fence-main.ts) against a stand-in postmaster: a child process whose
 * command line names "postgres", recorded in a postmaster.pid of a temp data directory. It must be
 * stopped at the armed deadline (not before, and promptly after), never when the deadline was
 * renewed or the fence disarmed, and the fence must exit once its state file is removed. Also the
 * agent's side (Fence): re-arming with an unchanged deadline does not rewrite the state file.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Fence } from '../../src/fence/fence.js';
import { sleep, waitFor } from '../support/ports.js';

const FENCE_MAIN = resolve('dist/src/fence/fence-main.js');
const dirs: string[] = [];
const children = new Set<ChildProcess>();
const killAll = (): void => { for (const c of children) c.kill('SIGKILL'); };
process.on('exit', killAll);
after(() => { killAll(); for (const d of dirs) rmSync(d, { recursive: true, force: true }); });

interface Setup { dir: string; dataDir: string; state: string; postmaster: ChildProcess; exited: Promise<NodeJS.Signals | null> }

function start(cmd: string, args: string[]): ChildProcess {
  const c = spawn(cmd, args, { stdio: 'ignore' });
  children.add(c);
  c.on('exit', () => children.delete(c));
  return c;
}

function setup(): Setup {
  const dir = mkdtempSync(join(tmpdir(), 'fence-test-'));
  dirs.push(dir);
  const dataDir = join(dir, 'data');
  // The fence only signals a process whose command line looks like PostgreSQL's.
  const postmaster = start(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'postgres-stand-in']);
  const exited = new Promise<NodeJS.Signals | null>((r) => postmaster.on('exit', (_c, sig) => r(sig)));
  mkdirSync(dataDir);
  writeFileSync(join(dataDir, 'postmaster.pid'), `${postmaster.pid}\n${dataDir}\n`);
  return { dir, dataDir, state: join(dir, 'fence.json'), postmaster, exited };
}

/** Write the state the way the agent does (write + rename); deadline in ms from now. */
function writeState(s: Setup, armed: boolean, inMs = 0): bigint {
  const deadlineNs = armed ? process.hrtime.bigint() + BigInt(Math.round(inMs * 1e6)) : 0n;
  const tmp = `${s.state}.tmp`;
  writeFileSync(tmp, JSON.stringify({ armed, deadlineNs: String(deadlineNs), dataDir: s.dataDir, agentPid: process.pid }));
  renameSync(tmp, s.state);
  return deadlineNs;
}

function startFence(s: Setup): { proc: ChildProcess; gone: Promise<number | null> } {
  const proc = start(process.execPath, [FENCE_MAIN, s.state]);
  return { proc, gone: new Promise((r) => proc.on('exit', (code) => r(code))) };
}

test('stops the postmaster at the armed deadline, not before', async () => {
  const s = setup();
  writeState(s, false);
  const f = startFence(s);
  await sleep(300);
  const deadline = writeState(s, true, 700);
  const sig = await Promise.race([s.exited, sleep(5000).then(() => 'timeout' as const)]);
  const at = process.hrtime.bigint();
  assert.equal(sig, 'SIGQUIT');
  const lateMs = Number(at - deadline) / 1e6;
  assert.ok(lateMs >= 0, `stopped ${-lateMs} ms before the deadline`);
  assert.ok(lateMs < 400, `stopped ${lateMs} ms after the deadline`);
  f.proc.kill('SIGKILL');
});

test('a renewed deadline or a disarm keeps the postmaster running', async () => {
  const s = setup();
  writeState(s, true, 600);
  const f = startFence(s);
  // Renew twice before each deadline, then disarm before the last one.
  await sleep(300);
  writeState(s, true, 600);
  await sleep(300);
  writeState(s, true, 600);
  await sleep(300);
  writeState(s, false);
  await sleep(900);
  assert.equal(s.postmaster.exitCode, null);
  assert.equal(s.postmaster.signalCode, null);
  f.proc.kill('SIGKILL');
  s.postmaster.kill('SIGKILL');
});

test('exits once its state file is removed', async () => {
  const s = setup();
  writeState(s, false);
  const f = startFence(s);
  await sleep(200);
  const t0 = performance.now();
  rmSync(s.state);
  const code = await Promise.race([f.gone, sleep(6000).then(() => 'timeout' as const)]);
  assert.equal(code, 0);
  assert.ok(performance.now() - t0 < 4000);
  s.postmaster.kill('SIGKILL');
});

test('the agent side rewrites the state file only when the deadline changes', async () => {
  const s = setup();
  const fence = new Fence(s.state, s.dataDir, join(s.dir, 'fence.log'));
  const d = performance.now() + 5000;
  fence.arm(d);
  const first = statSync(s.state, { bigint: true });
  const body = readFileSync(s.state, 'utf8');
  await sleep(20);
  for (let i = 0; i < 5; i++) fence.arm(d);
  assert.equal(statSync(s.state, { bigint: true }).mtimeNs, first.mtimeNs, 'unchanged deadline: no write');
  assert.equal(readFileSync(s.state, 'utf8'), body);
  fence.arm(d + 1000);
  await waitFor('a newer deadline written', async () => readFileSync(s.state, 'utf8') !== body, 1000, 10);
  const later = JSON.parse(readFileSync(s.state, 'utf8')) as { armed: boolean; deadlineNs: string };
  assert.equal(later.armed, true);
  assert.ok(BigInt(later.deadlineNs) > BigInt((JSON.parse(body) as { deadlineNs: string }).deadlineNs));
  fence.stop();
  s.postmaster.kill('SIGKILL');
});

test('a deadline already past while PostgreSQL is not a running primary does not make the fence spin', async () => {
  const s = setup();
  writeFileSync(join(s.dataDir, 'standby.signal'), ''); // a standby: the fence must not stop it
  writeState(s, true, -1000);
  const f = startFence(s);
  // Wake-ups show as voluntary context switches: a 0 ms timer loop makes about a thousand a second.
  const switches = () => Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(readFileSync(`/proc/${f.proc.pid}/status`, 'utf8'))?.[1]);
  await sleep(700);
  const before = switches();
  await sleep(1000);
  const woke = switches() - before;
  f.proc.kill('SIGKILL');
  assert.equal(s.postmaster.exitCode, null, 'the standby stand-in was left alone');
  assert.ok(woke < 100, `the fence woke ${woke} times in 1 s`);
});
