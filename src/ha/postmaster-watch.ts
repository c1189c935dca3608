/**
 * Wakes the loop soon after the postmaster dies, so a crash does not wait for loop_wait.
 * `onDeath` runs once per watched pid.
 *
 * Two signals: the agent's kept SQL connection closing (its backend exits as soon as the
 * postmaster dies, or when the server crashes or stops), which triggers a check at once and a few
 * more over the next second (the pid may outlive its backends by a moment); and a slow poll, for a
 * death that closes no connection of ours (none open yet, or a hung backend). The poll used to run
 * every 100 ms, ten wake-ups a second on every idle agent, then every second (issue 4); each poll
 * reads /proc, and the kept connection already reports nearly every death at once.
 */
import { existsSync } from 'node:fs';
import { onKeptConnectionLost } from '../postgres/client.js';
import { isDeadOrZombie } from '../postgres/orphans.js';

/** The fallback poll period. */
export const POLL_MS = 5000;
/** Checks after a kept connection was lost, in ms from the loss. */
const AFTER_LOSS_MS = [0, 50, 150, 400, 800];

export class PostmasterWatch {
  private timer: NodeJS.Timeout | null = null;
  private readonly burst = new Set<NodeJS.Timeout>();
  private pid: number | null = null;
  private readonly unsubscribe: () => void;

  constructor(private readonly onDeath: () => void, private readonly pollMs = POLL_MS) {
    this.unsubscribe = onKeptConnectionLost(() => this.onConnectionLost());
  }

  watch(pid: number | null): void {
    if (pid !== null && pid === this.pid && this.timer) return;
    this.stop();
    this.pid = pid;
    if (pid === null) return;
    this.timer = setInterval(() => this.check(), this.pollMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const t of this.burst) clearTimeout(t);
    this.burst.clear();
    this.pid = null;
  }

  /** stop(), and no longer listen to connection losses (agent shutdown). */
  close(): void {
    this.stop();
    this.unsubscribe();
  }

  private onConnectionLost(): void {
    if (this.pid === null) return;
    for (const ms of AFTER_LOSS_MS) {
      const t = setTimeout(() => { this.burst.delete(t); this.check(); }, ms);
      t.unref();
      this.burst.add(t);
    }
  }

  private check(): void {
    const pid = this.pid;
    if (pid === null) return;
    // A SIGKILLed postmaster can linger as a zombie until init reaps it: that counts as dead.
    if (!isAlive(pid)) {
      this.stop();
      this.onDeath();
    }
  }
}

function isAlive(pid: number): boolean {
  try { process.kill(pid, 0); } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  return !HAVE_PROC || !isDeadOrZombie(pid);
}

/** Whether /proc can tell a zombie apart (Linux); checked once. */
const HAVE_PROC = existsSync('/proc/self');
