/**
 * In-memory network for the simulator: each message gets a random delay (which reorders), may be
 * dropped or duplicated, and is lost if a partition separates its ends when it is sent or when it
 * would arrive.
 */
import type { Message, NodeId } from '../../../src/raft/core/types.js';
import type { Prng } from './prng.js';

export interface NetworkFaults {
  /** Probability that a message is dropped. */
  drop: number;
  /** Probability that a message is delivered twice. */
  duplicate: number;
  /** Delays are drawn uniformly from [1, maxDelay] ticks. */
  maxDelay: number;
}

interface InFlight {
  readonly at: number;
  readonly seq: number;
  readonly msg: Message;
}

export class SimNetwork {
  private queue: InFlight[] = [];
  private seq = 0;
  /** Node -> partition group; nodes in different groups cannot talk. Unlisted nodes are in group 0. */
  private groups = new Map<NodeId, number>();
  /** Messages matching this predicate are dropped (for focused tests). */
  filter: ((m: Message) => boolean) | null = null;
  sent = 0;

  constructor(
    private readonly rng: Prng,
    public faults: NetworkFaults,
  ) {}

  connected(a: NodeId, b: NodeId): boolean {
    return (this.groups.get(a) ?? 0) === (this.groups.get(b) ?? 0);
  }

  /** Splits the nodes into the given groups; nodes not named join the first group. */
  partition(groups: readonly (readonly NodeId[])[]): void {
    this.groups = new Map();
    groups.forEach((g, i) => g.forEach((id) => this.groups.set(id, i)));
  }

  isolate(id: NodeId): void {
    this.groups.set(id, 1000 + this.seq);
  }

  heal(): void {
    this.groups = new Map();
  }

  send(m: Message, now: number): void {
    this.sent++;
    if (!this.connected(m.from, m.to) || this.rng.chance(this.faults.drop)) return;
    if (this.filter !== null && this.filter(m)) return;
    const copies = this.rng.chance(this.faults.duplicate) ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      this.queue.push({ at: now + 1 + this.rng.intBelow(this.faults.maxDelay), seq: this.seq++, msg: m });
    }
  }

  /** Removes and returns the messages due by `now`, in (time, send order). */
  due(now: number): Message[] {
    const ready = this.queue.filter((f) => f.at <= now);
    if (ready.length === 0) return [];
    this.queue = this.queue.filter((f) => f.at > now);
    ready.sort((a, b) => a.at - b.at || a.seq - b.seq);
    return ready.filter((f) => this.connected(f.msg.from, f.msg.to)).map((f) => f.msg);
  }

  pending(): number {
    return this.queue.length;
  }

  clear(): void {
    this.queue = [];
  }
}
