/**
 * The leader's view of one follower (or learner).
 *
 * - probe: the leader does not know where the follower's log diverges. It sends one append at a
 *   time and waits (paused) for the answer, a heartbeat response, or the retry interval.
 * - replicate: the follower is known to match up to `match`; appends are streamed without
 *   waiting, `next` advancing optimistically. A loss shows as a rejection (back to probe) or as
 *   no progress within the retry interval (back to probe from match + 1).
 * - snapshot: the entries the follower needs were compacted; a snapshot at `pendingSnapshot`
 *   is on its way and no appends are sent until the follower acknowledges it or the retry
 *   interval passes.
 */
export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  /** Highest index known to be replicated on the follower. */
  match = 0;
  /** Next index to send. Always > match. */
  next: number;
  state: ProgressState = 'probe';
  /** probe only: an append is outstanding. */
  paused = false;
  pendingSnapshot = 0;
  /** Ticks since the last append/snapshot was sent while progress was expected. */
  ticksSinceSend = 0;
  /** Heard from since the last check-quorum round. New members start active (etcd does too). */
  recentActive = true;
  /** Ticks since any message from this node arrived (for autoremove and GET /raft). */
  silentTicks = 0;
  /**
   * Ticks since the leader last sent this node anything (append, heartbeat, snapshot). A
   * heartbeat is due only once this reaches the heartbeat interval: any message from the leader
   * resets the follower's election timer, so a read-index round or an append stands in for it.
   */
  idleTicks = 0;

  constructor(
    next: number,
    public isLearner: boolean,
  ) {
    this.next = next;
  }

  becomeProbe(): void {
    this.state = 'probe';
    this.next = this.match + 1;
    this.paused = false;
    this.pendingSnapshot = 0;
  }

  becomeReplicate(): void {
    this.state = 'replicate';
    this.next = this.match + 1;
    this.paused = false;
    this.pendingSnapshot = 0;
  }

  becomeSnapshot(index: number): void {
    this.state = 'snapshot';
    this.pendingSnapshot = index;
    this.paused = false;
    this.ticksSinceSend = 0;
  }

  /** The follower acknowledged `index`. Returns whether match moved forward. */
  maybeUpdate(index: number): boolean {
    const updated = index > this.match;
    if (updated) {
      this.match = index;
      this.paused = false;
      this.ticksSinceSend = 0;
    }
    this.next = Math.max(this.next, index + 1);
    return updated;
  }

  /** Records that an append ending at `lastSent` (or carrying no entries) went out. */
  sentAppend(lastSent: number | null): void {
    this.ticksSinceSend = 0;
    if (this.state === 'probe') this.paused = true;
    else if (this.state === 'replicate' && lastSent !== null) this.next = lastSent + 1;
  }

  isPaused(): boolean {
    return this.state === 'snapshot' || (this.state === 'probe' && this.paused);
  }
}
