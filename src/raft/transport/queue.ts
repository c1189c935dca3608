/**
 * The bounded per-peer send queue. Raft tolerates message loss (it retries by itself), so when
 * the queue is full the OLDEST item is dropped: the newest messages carry the freshest term,
 * commit index and heartbeat, which are what the peer needs. Memory is bounded by both an item
 * count and a byte total.
 *
 * Invariant: after every push, length <= maxItems and bytes <= maxBytes (a single item larger
 * than maxBytes is refused outright).
 */

/** One encoded frame waiting to be written; `onDrop` runs if it is discarded instead. */
export interface QueuedFrame {
  readonly bytes: Uint8Array;
  readonly onDrop?: () => void;
  /** Runs once the frame was handed to the socket. */
  readonly onSent?: () => void;
}

export class BoundedQueue {
  private items: QueuedFrame[] = [];
  private head = 0;
  private total = 0;
  private dropCount = 0;

  constructor(
    private readonly maxItems: number,
    private readonly maxBytes: number,
  ) {}

  get length(): number {
    return this.items.length - this.head;
  }

  get bytes(): number {
    return this.total;
  }

  /** Items discarded since creation, by overflow or by `dropAll`. */
  get drops(): number {
    return this.dropCount;
  }

  /** Appends `item`, dropping the oldest items as needed to stay within both bounds. */
  push(item: QueuedFrame): void {
    if (item.bytes.byteLength > this.maxBytes) {
      this.discard(item);
      return;
    }
    while (this.length >= this.maxItems || this.total + item.bytes.byteLength > this.maxBytes) {
      const oldest = this.shift();
      if (oldest === undefined) break;
      this.discard(oldest);
    }
    this.items.push(item);
    this.total += item.bytes.byteLength;
  }

  /** Removes and returns the oldest item, or undefined when empty. */
  shift(): QueuedFrame | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.head++;
    this.total -= item.bytes.byteLength;
    // Compact now and then so the array does not grow without bound behind `head`.
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Discards everything queued (counted as drops), e.g. while the peer is unreachable. */
  dropAll(): number {
    let n = 0;
    for (let item = this.shift(); item !== undefined; item = this.shift()) {
      this.discard(item);
      n++;
    }
    this.items = [];
    this.head = 0;
    return n;
  }

  private discard(item: QueuedFrame): void {
    this.dropCount++;
    item.onDrop?.();
  }
}
