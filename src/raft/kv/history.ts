/**
 * A bounded ring of the most recent KV events, for watch-from-revision.
 *
 * Invariant: every event with a revision greater than `compactedThrough` is retained. When the ring
 * drops its oldest event, `compactedThrough` rises to that event's revision (other events of the same
 * revision may still sit in the ring, but the revision is no longer complete, so nobody may watch
 * from before it).
 */
import type { KvEvent, WatchResult } from './types.js';

export const DEFAULT_HISTORY_EVENTS = 10_000;

export class EventHistory {
  private readonly ring: (KvEvent | undefined)[];
  private head = 0;
  private size = 0;
  private compacted: number;

  /**
   * @param capacity how many events to keep (at least 1).
   * @param compactedThrough the revision the history starts after (a restored snapshot's revision).
   */
  constructor(readonly capacity: number = DEFAULT_HISTORY_EVENTS, compactedThrough = 0) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`history capacity must be a positive integer, got ${capacity}`);
    this.ring = new Array<KvEvent | undefined>(capacity);
    this.compacted = compactedThrough;
  }

  /** The oldest revision one may still watch after. */
  get compactedThrough(): number {
    return this.compacted;
  }

  /** Appends events in order; their revisions must not decrease (the state machine's contract). */
  append(events: readonly KvEvent[]): void {
    for (const event of events) {
      if (this.size === this.capacity) {
        const dropped = this.ring[this.head];
        if (dropped) this.compacted = Math.max(this.compacted, dropped.revision);
        this.head = (this.head + 1) % this.capacity;
        this.size -= 1;
      }
      this.ring[(this.head + this.size) % this.capacity] = event;
      this.size += 1;
    }
  }

  /**
   * The events after `afterRevision` whose key starts with `prefix`, or `compacted` when some of
   * them were already dropped. A revision beyond `currentRevision` simply has no events yet.
   */
  since(afterRevision: number, prefix: string, currentRevision: number): WatchResult {
    if (afterRevision < this.compacted) {
      return { kind: 'compacted', compactRevision: this.compacted, revision: currentRevision };
    }
    const events: KvEvent[] = [];
    for (let i = this.firstAfter(afterRevision); i < this.size; i++) {
      const event = this.at(i);
      if (event.key.startsWith(prefix)) events.push(event);
    }
    return { kind: 'events', events, revision: currentRevision };
  }

  private at(i: number): KvEvent {
    const event = this.ring[(this.head + i) % this.capacity];
    // Slots 0..size-1 from head are always filled; a hole would be a bug in append().
    if (!event) throw new Error(`event history slot ${i} of ${this.size} is empty`);
    return event;
  }

  /** Binary search: the logical position of the first event with revision > afterRevision. */
  private firstAfter(afterRevision: number): number {
    let lo = 0;
    let hi = this.size;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.at(mid).revision > afterRevision) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
