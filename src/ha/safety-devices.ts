/**
 * The two guards outside the HA loop that stop a primary whose agent cannot renew its lease:
 * the fence process (always) and a watchdog device (when configured). The agent's MAIN thread
 * pushes the state to both (after each cycle and each lease change, plus a 1 s timer feeding the
 * watchdog): if that thread freezes, the fence's deadline stops moving and the watchdog stops
 * being fed, and each acts on its own.
 */
import type { Logger } from 'pino';
import type { Fence } from '../fence/fence.js';
import type { RepeatLimiter } from '../util/repeat-limiter.js';
import type { Watchdog } from '../watchdog/watchdog.js';

/**
 * How often the main thread pushes its state to the fence and the watchdog. A slower push can only
 * leave the fence an older (earlier) deadline, never a later one; 1 s keeps an idle agent from
 * waking 4 times a second for nothing (issue 4).
 */
const SYNC_MS = 1000;

export interface GuardState {
  /** Lease deadline (performance.now() ms) or null. */
  readonly deadline: number | null;
  /** The lock is held and the deadline has not passed. */
  readonly lockValid: boolean;
  readonly holdsLock: boolean;
  /** PostgreSQL runs as a primary. */
  readonly primary: boolean;
}

export class SafetyDevices {
  private timer: NodeJS.Timeout | null = null;
  private watchdogFailedAt = -Infinity;

  constructor(
    private readonly fence: Fence | null,
    private readonly watchdog: Watchdog | null,
    private readonly log: Logger,
    private readonly limiter: RepeatLimiter,
    private readonly now: () => number,
  ) {}

  private state: (() => GuardState) | null = null;
  private started = false;

  start(state: () => GuardState): void {
    if (this.fence) this.log.info({ pid: this.fence.ensureRunning() }, 'fence process running');
    this.state = state;
    this.started = true;
  }

  /**
   * Only an open watchdog device needs feeding on a timer. The fence reads a deadline that moves
   * only when the agent renews its lease, and nudge() pushes every such change, so an agent with
   * no open watchdog (every replica, and a primary without a device) does not wake once a second
   * for nothing (issue 4).
   */
  private updateTimer(): void {
    const feed = this.started && !!this.watchdog?.active;
    if (feed && !this.timer) this.timer = setInterval(() => this.nudge(), SYNC_MS);
    else if (!feed && this.timer) { clearInterval(this.timer); this.timer = null; }
  }

  /**
   * Push the state now (the agent calls it after each cycle and on lock changes), so a promotion
   * arms the fence at once rather than up to SYNC_MS later. Cheap: the fence file is written only
   * when the deadline changes.
   */
  nudge(): void {
    if (this.state && this.started) this.sync(this.state());
  }

  private sync(s: GuardState): void {
    if (this.watchdog) {
      // Fed only while the lease is confirmed valid: a frozen main thread stops feeding it.
      if (s.lockValid && s.primary) { this.armWatchdog(); this.watchdog.keepalive(); }
      else this.watchdog.disable();
      this.updateTimer();
    }
    if (!this.fence) return;
    try {
      if (s.holdsLock && s.primary && s.deadline !== null) this.fence.arm(s.deadline);
      else this.fence.disarm();
    } catch (e) {
      this.limiter.failure('updating the fence state file', e instanceof Error ? e.message : String(e));
    }
  }

  /** Arm the watchdog before taking writes. Returns why not when mode 'required' cannot arm it. */
  armWatchdog(): string | null {
    const wd = this.watchdog;
    if (!wd || wd.mode === 'off' || wd.active) return null;
    // In automatic mode a missing device is retried every 30 s, not on every 250 ms tick.
    if (wd.mode === 'automatic' && this.now() - this.watchdogFailedAt < 30_000) return null;
    const r = wd.activate();
    if (r.ok) { this.updateTimer(); return null; }
    this.watchdogFailedAt = this.now();
    if (wd.mode === 'required') return `watchdog.mode is required and ${r.detail}`;
    this.limiter.failure('watchdog activation', r.detail);
    return null;
  }

  /** Clean shutdown (or pause): disarm both; the fence process exits once its state file is gone. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.started = false;
    this.watchdog?.disable();
    this.fence?.stop();
  }
}
