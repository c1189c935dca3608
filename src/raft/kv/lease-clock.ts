/**
 * Lease expiry, decided by the Raft leader alone on its own monotonic clock (etcd's primary lessor).
 *
 * The leader's driver owns one LeaseClock and feeds it its local monotonic time:
 * - on becoming leader: `promote(stateMachine.leases(), now)`. It cannot trust deadlines measured
 *   on another node's clock, so every lease restarts at now + ttl + electionTimeout: leases are only
 *   ever expired late, never early (the extra election timeout covers the time clients needed to
 *   find the new leader). On losing leadership: `demote()`; followers track nothing.
 * - after applying each entry: `observe(result, now)`, which tracks grants, extends on keep-alives
 *   (to now + ttl) and forgets revoked leases. Clients' keep-alives normally never reach the log:
 *   the driver confirms its leadership with a read-index and calls `renew(id, now)`.
 * - on a timer (see `nextDeadlineMs`): `expired(now)`, then propose `revokeCommand(id)` per id. That
 *   revoke is guarded by the lease's last renewal index, so a keep-alive that reaches the log
 *   before it cancels it (the client was told its lease lives on, so it must).
 *
 * Pure: no clock reads, no timers. Deadlines are in the leader's monotonic milliseconds.
 */
import type { KvCommand, KvResult } from './types.js';

export interface LeaseClockOptions {
  /** The Raft election timeout (QLUSTER node-timeout), in ms. */
  readonly electionTimeoutMs: number;
  /**
   * A lease reported by `expired` is reported again only after this long without its revoke being
   * applied (the proposal may have been dropped). Default: electionTimeoutMs.
   */
  readonly revokeRetryMs?: number;
}

interface Tracked {
  readonly ttlMs: number;
  deadlineMs: number;
  /** Log index of the last applied grant / keep-alive: the guard of the revoke we propose. */
  renewedIndex: number;
  /** When `expired` last reported it (a revoke is presumably in flight), or null. */
  reportedAtMs: number | null;
}

/** Why a lease TTL is unusable with this election timeout. */
export class LeaseTtlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * A TTL shorter than 1.5 x the election timeout could expire merely because the Raft leader
 * changed (etcd enforces the same minimum). Returns the error to report, or null when usable.
 */
export function validateLeaseTtl(ttlMs: number, electionTimeoutMs: number): LeaseTtlError | null {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    return new LeaseTtlError(`lease TTL must be a positive number of milliseconds, got ${ttlMs}`);
  }
  const minimumMs = Math.ceil(1.5 * electionTimeoutMs);
  if (ttlMs < minimumMs) {
    return new LeaseTtlError(
      `ttl: ${ttlMs} ms is shorter than 1.5 x the Raft election timeout (raft node-timeout ${electionTimeoutMs} ms), ` +
        `i.e. ${minimumMs} ms: a leader change alone could expire the leader key; raise ttl to at least ` +
        `${Math.ceil(minimumMs / 1000)} s or lower node-timeout`,
    );
  }
  return null;
}

export class LeaseClock {
  private readonly tracked = new Map<number, Tracked>();
  private leader = false;
  private readonly electionTimeoutMs: number;
  private readonly revokeRetryMs: number;

  constructor(options: LeaseClockOptions) {
    if (!(options.electionTimeoutMs > 0)) throw new RangeError(`electionTimeoutMs must be positive, got ${options.electionTimeoutMs}`);
    this.electionTimeoutMs = options.electionTimeoutMs;
    this.revokeRetryMs = options.revokeRetryMs ?? options.electionTimeoutMs;
  }

  get isLeader(): boolean {
    return this.leader;
  }

  /** This node became leader: restart every lease's countdown at now + ttl + election timeout. */
  promote(leases: Iterable<{ readonly id: number; readonly ttlMs: number; readonly renewedIndex: number }>, nowMs: number): void {
    this.tracked.clear();
    this.leader = true;
    for (const { id, ttlMs, renewedIndex } of leases) {
      this.tracked.set(id, { ttlMs, renewedIndex, deadlineMs: nowMs + ttlMs + this.electionTimeoutMs, reportedAtMs: null });
    }
  }

  /** This node is no longer leader: forget every deadline (the next leader starts its own). */
  demote(): void {
    this.tracked.clear();
    this.leader = false;
  }

  /** A grant was applied at log index `renewedIndex`: it lives until now + ttl. Ignored on a follower. */
  granted(id: number, ttlMs: number, renewedIndex: number, nowMs: number): void {
    if (this.leader) this.tracked.set(id, { ttlMs, renewedIndex, deadlineMs: nowMs + ttlMs, reportedAtMs: null });
  }

  /** A keep-alive was applied at `renewedIndex`: the lease lives until now + ttl. False if unknown. */
  keptAlive(id: number, renewedIndex: number, nowMs: number): boolean {
    const lease = this.tracked.get(id);
    if (!lease) return false;
    lease.deadlineMs = nowMs + lease.ttlMs;
    lease.renewedIndex = renewedIndex;
    lease.reportedAtMs = null;
    return true;
  }

  /**
   * A keep-alive the leader serves without a log entry (etcd's lessor does the same), after a
   * read-index confirmed it still leads and has applied every entry of earlier terms: the lease
   * lives until now + ttl. Refused (false) on a follower, for an untracked lease, and for one already
   * past its deadline or awaiting its revoke: a lease this leader judged expired is never renewed,
   * so no revoke it proposed can delete a lease whose holder was told it lives on.
   */
  renew(id: number, nowMs: number): boolean {
    if (!this.leader) return false;
    const lease = this.tracked.get(id);
    if (!lease || lease.reportedAtMs !== null || lease.deadlineMs <= nowMs) return false;
    lease.deadlineMs = nowMs + lease.ttlMs;
    return true;
  }

  /** A lease was revoked (applied): stop tracking it. */
  revoked(id: number): void {
    this.tracked.delete(id);
  }

  /** Feeds one apply result (applied at the driver's `nowMs`) through the methods above. */
  observe(result: KvResult, nowMs: number): void {
    switch (result.kind) {
      case 'leaseGrant': this.granted(result.id, result.ttlMs, result.renewedIndex, nowMs); break;
      case 'leaseKeepAlive': if (result.found) this.keptAlive(result.id, result.renewedIndex, nowMs); break;
      // A guarded revoke that lost to a keep-alive leaves the lease alive (keptAlive reset it).
      case 'leaseRevoke': if (!result.found || result.revoked) this.revoked(result.id); break;
      default: break;
    }
  }

  /**
   * The command to propose for an expired lease: a revoke that only takes effect if the lease was
   * not renewed since this clock last saw it. Null when the lease is not tracked.
   */
  revokeCommand(id: number): KvCommand | null {
    const lease = this.tracked.get(id);
    return lease ? { kind: 'leaseRevoke', id, ifRenewedIndex: lease.renewedIndex } : null;
  }

  /**
   * The leases whose deadline has passed (deadline <= now), earliest deadline first, that are not
   * already awaiting a revoke reported less than `revokeRetryMs` ago. Empty on a follower. Each
   * returned id is marked as reported; the caller proposes `leaseRevoke` for it.
   */
  expired(nowMs: number): number[] {
    if (!this.leader) return [];
    const due: Array<[number, number]> = [];
    for (const [id, lease] of this.tracked) {
      if (lease.deadlineMs > nowMs) continue;
      if (lease.reportedAtMs !== null && nowMs - lease.reportedAtMs < this.revokeRetryMs) continue;
      lease.reportedAtMs = nowMs;
      due.push([lease.deadlineMs, id]);
    }
    return due.sort((a, b) => a[0] - b[0] || a[1] - b[1]).map(([, id]) => id);
  }

  /** Milliseconds the lease has left on this leader's clock (may be negative), or null if untracked. */
  remainingMs(id: number, nowMs: number): number | null {
    const lease = this.tracked.get(id);
    return lease ? lease.deadlineMs - nowMs : null;
  }

  /** The earliest instant `expired` could report something, or null: when to set the next timer. */
  nextDeadlineMs(): number | null {
    let next: number | null = null;
    for (const lease of this.tracked.values()) {
      const at = lease.reportedAtMs === null ? lease.deadlineMs : Math.max(lease.deadlineMs, lease.reportedAtMs + this.revokeRetryMs);
      if (next === null || at < next) next = at;
    }
    return next;
  }
}
