/**
 * A real watchdog device (/dev/watchdog, e.g. the softdog module), as Patroni uses one: while this
 * node is primary the agent keeps the device fed after each confirmed lease renewal; if the agent
 * stops feeding it, the kernel resets the machine, so a frozen primary cannot outlive its lease.
 * (The fence process covers the same case without root or a device; this adds the kernel's
 * guarantee where a device is available.)
 *
 * Protocol (Linux watchdog API): opening the device arms it; any write other than 'V' is a
 * keep-alive; writing 'V' before close is the "magic close" that disarms it. Node cannot issue the
 * WDIOC_SETTIMEOUT ioctl, so the timeout is read from sysfs (/sys/class/watchdog/<dev>/timeout) and
 * must not exceed ttl - safety_margin: otherwise the device could fire only after another node took
 * over, and then it protects nothing. mode 'required' refuses to run as primary without a usable
 * device; 'automatic' warns and goes on; 'off' does nothing.
 */
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { basename } from 'node:path';

export type WatchdogMode = 'off' | 'automatic' | 'required';

export interface WatchdogSettings {
  readonly mode: WatchdogMode;
  readonly device: string;
  /** Seconds; -1 means ttl / 2 (Patroni's rule). */
  readonly safetyMarginSeconds: number;
  readonly ttlSeconds: number;
  /** Where to read the device timeout (tests point it elsewhere); null: unknown. */
  readonly sysfsTimeoutFile?: string | null;
}

export type ActivateResult = { readonly ok: true; readonly detail: string } | { readonly ok: false; readonly detail: string };

export function requiredTimeoutSeconds(s: WatchdogSettings): number {
  const margin = s.safetyMarginSeconds === -1 ? s.ttlSeconds / 2 : s.safetyMarginSeconds;
  return s.ttlSeconds - margin;
}

export class Watchdog {
  private fd: number | null = null;

  constructor(private readonly s: WatchdogSettings) {}

  get active(): boolean { return this.fd !== null; }
  get mode(): WatchdogMode { return this.s.mode; }

  private deviceTimeout(): number | null {
    const file = this.s.sysfsTimeoutFile === undefined ? `/sys/class/watchdog/${basename(this.s.device)}/timeout` : this.s.sysfsTimeoutFile;
    if (!file) return null;
    try {
      const v = Number(readFileSync(file, 'utf8').trim());
      return Number.isFinite(v) && v > 0 ? v : null;
    } catch {
      return null;
    }
  }

  /**
   * Arm the device before taking writes. { ok: false } means: in 'required' mode do not become (or
   * stay) primary; in 'automatic' mode log the detail and go on.
   */
  activate(): ActivateResult {
    if (this.s.mode === 'off') return { ok: true, detail: 'watchdog is off' };
    if (this.fd !== null) return { ok: true, detail: 'watchdog already active' };
    const limit = requiredTimeoutSeconds(this.s);
    const timeout = this.deviceTimeout();
    if (timeout === null) return { ok: false, detail: `cannot read the timeout of ${this.s.device} (need at most ${limit} s = ttl - safety_margin)` };
    if (timeout > limit) return { ok: false, detail: `${this.s.device} fires after ${timeout} s, later than ttl - safety_margin = ${limit} s: it would reset this node only after another could take over` };
    try {
      this.fd = openSync(this.s.device, 'w');
    } catch (e) {
      return { ok: false, detail: `cannot open ${this.s.device}: ${e instanceof Error ? e.message : String(e)}` };
    }
    this.keepalive();
    return { ok: true, detail: `watchdog ${this.s.device} armed (timeout ${timeout} s)` };
  }

  /** Feed the device (after each confirmed lease renewal). */
  keepalive(): void {
    if (this.fd === null) return;
    try { writeSync(this.fd, '1'); } catch { /* a failed write is caught by the device firing */ }
  }

  /** Magic close: disarm (on demote, pause, clean shutdown). */
  disable(): void {
    if (this.fd === null) return;
    try { writeSync(this.fd, 'V'); } catch { /* ignore */ }
    try { closeSync(this.fd); } catch { /* ignore */ }
    this.fd = null;
  }
}
