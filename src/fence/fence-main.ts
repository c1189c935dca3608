/**
 * The fence: a small separate process per node that stops a primary PostgreSQL whose agent stopped
 * renewing the leader lease (agent frozen by SIGSTOP, a hung event loop, a VM pause, or killed).
 * Patroni relies on /dev/watchdog for this; we need neither root nor a watchdog device.
 *
 * Protocol: the agent writes `<stateFile>` atomically (write + rename) after each confirmed lease
 * renewal: {"armed": true, "deadlineNs": "<CLOCK_MONOTONIC ns>", "dataDir": ..., "agentPid": n}.
 * CLOCK_MONOTONIC (process.hrtime.bigint()) is system-wide on Linux, so both processes read the same
 * clock. When armed and the deadline passes without a newer one, the fence SIGQUITs the postmaster
 * (PostgreSQL's immediate shutdown: no more commits) if PostgreSQL is running as a primary (no
 * standby.signal). The agent disarms it when it is no longer primary.
 *
 * It polls every 50 ms, needs no event from the agent, and runs in its own session, so it outlives
 * the agent's death and keeps running while the agent is frozen. It exits when its state file is
 * removed (the agent's clean shutdown) or is gone for good with no agent alive.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface FenceState {
  readonly armed: boolean;
  readonly deadlineNs: string;
  readonly dataDir: string;
  readonly agentPid: number;
}

const stateFile = process.argv[2];
if (!stateFile) {
  process.stderr.write('usage: fence-main STATE_FILE\n');
  process.exit(2);
}

function log(msg: string, extra: Record<string, unknown> = {}): void {
  process.stderr.write(`${JSON.stringify({ time: Date.now(), component: 'fence', msg, ...extra })}\n`);
}

function readState(): FenceState | null {
  try {
    return JSON.parse(readFileSync(stateFile!, 'utf8')) as FenceState;
  } catch {
    return null;
  }
}

function postmasterPid(dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (!pid) return null;
    process.kill(pid, 0);
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return /postgres|postmaster|qhb/.test(cmd) ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

let firedFor = '';
let missingSince = 0;

function tick(): void {
  const st = readState();
  if (!st) {
    // The agent removes the file on a clean shutdown; a missing file with a dead agent ends us too.
    if (!existsSync(stateFile!)) {
      missingSince ||= Date.now();
      if (Date.now() - missingSince > 2000) { log('state file removed: exiting'); process.exit(0); }
    }
    return;
  }
  missingSince = 0;
  if (!st.armed) return;
  const now = process.hrtime.bigint();
  if (now < BigInt(st.deadlineNs) || firedFor === st.deadlineNs) return;
  const pid = postmasterPid(st.dataDir);
  if (pid === null || existsSync(join(st.dataDir, 'standby.signal'))) return;
  firedFor = st.deadlineNs;
  log('lease deadline passed without a renewal while PostgreSQL is primary: stopping it (immediate)', {
    postmaster: pid, overdueMs: Number(now - BigInt(st.deadlineNs)) / 1e6, agentAlive: alive(st.agentPid),
  });
  try { process.kill(pid, 'SIGQUIT'); } catch (e) { log('could not signal the postmaster', { err: String(e) }); }
}

setInterval(tick, 50);
log('fence started', { stateFile });
