/**
 * Bounded logging for failures that repeat while a dependency stays down (PostgreSQL, the DCS): the
 * first occurrence is logged at once, later ones are counted and summarised at most once per
 * `summaryEveryMs` with the count and the last error; recovery is logged once. An agent must not fill
 * a disk while etcd is down for an hour.
 */
import type { Logger } from 'pino';

interface Entry { count: number; since: number; lastSummary: number; lastError: string }

export class RepeatLimiter {
  private readonly open = new Map<string, Entry>();

  constructor(private readonly log: Logger, private readonly summaryEveryMs = 60_000, private readonly now: () => number = Date.now) {}

  /** A failure of `key` (e.g. "publish member record"); `error` is a one-line description. */
  failure(key: string, error: string, extra: Record<string, unknown> = {}): void {
    const t = this.now();
    const e = this.open.get(key);
    if (!e) {
      this.open.set(key, { count: 1, since: t, lastSummary: t, lastError: error });
      this.log.warn({ ...extra, err: error }, `${key} failed`);
      return;
    }
    e.count++;
    e.lastError = error;
    if (t - e.lastSummary >= this.summaryEveryMs) {
      e.lastSummary = t;
      this.log.warn({ ...extra, failures: e.count, sinceMs: t - e.since, lastError: error }, `${key} still failing`);
    }
  }

  /** `key` worked again: log the recovery once (only if it had failed). */
  success(key: string): void {
    const e = this.open.get(key);
    if (!e) return;
    this.open.delete(key);
    this.log.info({ failures: e.count, downMs: this.now() - e.since }, `${key} works again`);
  }
}
