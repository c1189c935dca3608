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
 * Timing: a timer set for the deadline re-reads the state file when it fires, so the decision to stop
 * PostgreSQL is always taken on the newest state, at the deadline, needing no event from the agent.
 * Between deadlines the fence learns of new states from a directory watch (at once) and a slow poll
 * (the fallback when the watch misses an event or cannot be set up). An armed fence polls once per
 * POLL_MS, a disarmed one (a replica's) once per IDLE_POLL_MS: it has no deadline to keep, and the
 * watch still brings an arming at once (issue 4: idle CPU; it polled every 50 ms at first).
 *
 * It runs in its own session, so it outlives the agent's death and keeps running while the agent is
 * frozen. It exits when its state file is removed (the agent's clean shutdown) or is gone for good
 * with no agent alive.
 */
import { existsSync, readFileSync, watch } from 'node:fs';
import { basename, dirname, join } from 'node:path';

interface FenceState {
  readonly armed: boolean;
  readonly deadlineNs: string;
  readonly dataDir: string;
  readonly agentPid: number;
}

/** Fallback poll period while armed; the deadline itself is kept by a timer, not by this poll. */
const POLL_MS = 1000;
/** Fallback poll period while disarmed (or before any state was written). */
const IDLE_POLL_MS = 5000;
/** A removed state file ends the fence after this long (the agent's clean shutdown). */
const EXIT_AFTER_MISSING_MS = 2000;

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
let deadlineTimer: NodeJS.Timeout | null = null;
let timerFor = '';
let pollTimer: NodeJS.Timeout | null = null;
let armed = false;

/** The fallback poll period: POLL_MS while armed, IDLE_POLL_MS otherwise. */
function pollMs(): number {
  return armed ? POLL_MS : IDLE_POLL_MS;
}

/** The fallback poll: check() again after `ms`. */
function schedulePoll(ms = pollMs()): void {
  if (pollTimer) clearTimeout(pollTimer);
  pollTimer = setTimeout(() => { pollTimer = null; check(); }, ms);
}

/** Stop PostgreSQL if `st` is armed, its deadline has passed, and PostgreSQL runs as a primary. */
function maybeFire(st: FenceState): void {
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

/** (Re)arm the one deadline timer for `st`, or clear it when disarmed. */
function schedule(st: FenceState): void {
  if (!st.armed || firedFor === st.deadlineNs) {
    if (deadlineTimer) clearTimeout(deadlineTimer);
    deadlineTimer = null;
    timerFor = '';
    return;
  }
  if (deadlineTimer && timerFor === st.deadlineNs) return;
  if (deadlineTimer) clearTimeout(deadlineTimer);
  deadlineTimer = null;
  timerFor = '';
  const leftNs = BigInt(st.deadlineNs) - process.hrtime.bigint();
  // Already past and not fired (PostgreSQL is not a running primary): the poll looks again each
  // POLL_MS; a 0 ms timer here would spin.
  if (leftNs <= 0n) return;
  // Node's timers may fire up to a millisecond early against hrtime: check() re-schedules then.
  const ms = Number(leftNs / 1_000_000n) + 1;
  timerFor = st.deadlineNs;
  deadlineTimer = setTimeout(() => { deadlineTimer = null; timerFor = ''; check(); }, ms);
}

/** Read the newest state and act on it: exit, fire, or (re)arm the deadline timer. */
function check(): void {
  const st = readState();
  if (!st) {
    // The agent removes the file on a clean shutdown; a missing file with a dead agent ends us too.
    if (!existsSync(stateFile!)) {
      missingSince ||= Date.now();
      if (Date.now() - missingSince > EXIT_AFTER_MISSING_MS) { log('state file removed: exiting'); process.exit(0); }
      // Look again just after the grace period, not a whole idle poll later.
      return schedulePoll(Math.min(pollMs(), missingSince + EXIT_AFTER_MISSING_MS + 50 - Date.now()));
    }
    return schedulePoll();
  }
  missingSince = 0;
  armed = st.armed;
  if (st.armed) maybeFire(st);
  schedule(st);
  schedulePoll();
}

/** Re-read at once when the agent renames a new state into place (best effort: the poll remains). */
function watchDirectory(): void {
  const name = basename(stateFile!);
  try {
    const w = watch(dirname(stateFile!), { persistent: false }, (_event, file) => { if (file === null || file === name) check(); });
    w.on('error', () => w.close());
  } catch (e) {
    log('cannot watch the state directory; relying on the poll', { err: String(e) });
  }
}

watchDirectory();
check();
log('fence started', { stateFile });
