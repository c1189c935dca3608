/**
 * The applied side of the Raft driver: the KV state machine, the index of the last applied entry,
 * and everything waiting on it (proposals waiting for their entry's result, linearizable reads
 * waiting for their read index to be answered and then applied). The Ready loop feeds it committed
 * entries, snapshots and read states; the client API registers the waiters.
 *
 * Contract: a proposal's promise settles only once its entry was applied (so committed: on disk on
 * a majority); it rejects when another term's entry took its index (leadership changed).
 */
import type { Entry, ReadState, Snapshot } from './core/index.js';
import { KvStateMachine, type KvListener, type KvResult } from './kv/index.js';
import { NoLeaderError } from './node-support.js';

interface Pending { term: number; resolve: (r: KvResult) => void; reject: (e: Error) => void }

/** Applied entries between two snapshots of the state machine (node.ts compacts then). */
const SNAPSHOT_EVERY = 2000;

export class AppliedState {
  kv: KvStateMachine;
  /** Index of the last applied entry of any type. */
  applied: number;
  private sinceSnapshot = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly reads = new Map<string, { resolve: (index: number) => void; reject: (err: Error) => void }>();
  private readonly waiters: Array<{ index: number; resolve: () => void }> = [];
  /** onChange listeners, each with its unsubscribe from the current state machine. */
  private readonly subscriptions = new Map<KvListener, () => void>();

  /** `snap`: the stored snapshot (index 0: a joining server, which starts empty). */
  constructor(snap: Snapshot, private readonly observe: (result: KvResult) => void) {
    this.kv = snap.index === 0 ? new KvStateMachine() : KvStateMachine.restore(snap.data);
    this.applied = snap.index;
  }

  /** A snapshot from the leader replaced the log. */
  restore(snap: Snapshot): void {
    // Watchers subscribed to the old state machine time out and re-read: acceptable for a rare event.
    for (const off of this.subscriptions.values()) off();
    this.kv = KvStateMachine.restore(snap.data);
    this.applied = Math.max(this.applied, snap.index);
    for (const listener of [...this.subscriptions.keys()]) {
      this.subscriptions.set(listener, this.kv.subscribe(listener));
      // Anything may have changed: an empty change says "look again".
      listener({ index: snap.index, revision: this.kv.revision, events: [] });
    }
  }

  /**
   * Calls `listener` after every apply that changed keys (KvStateMachine.subscribe), across
   * snapshot installs: after one it is called once with no events, meaning "anything may have
   * changed". Returns the unsubscribe function.
   */
  onChange(listener: KvListener): () => void {
    this.subscriptions.set(listener, this.kv.subscribe(listener));
    return () => {
      this.subscriptions.get(listener)?.();
      this.subscriptions.delete(listener);
    };
  }

  apply(e: Entry): void {
    // Every entry counts as applied (no-ops and conf changes too): a read-index answer is often
    // exactly the new leader's no-op, and reads wait for `applied` to reach it.
    this.applied = Math.max(this.applied, e.index);
    if (e.type !== 'normal') {
      this.settle(e, { kind: 'skipped', index: e.index, revision: this.kv.revision });
    } else {
      const result = this.kv.apply(e.index, e.data);
      this.observe(result);
      this.sinceSnapshot++;
      this.settle(e, result);
    }
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const w = this.waiters[i]!;
      if (w.index <= e.index) { this.waiters.splice(i, 1); w.resolve(); }
    }
  }

  /** Resolves with the result of the entry proposed at `index` in `term`, once applied. */
  track(index: number, term: number): Promise<KvResult> {
    return new Promise<KvResult>((resolve, reject) => this.pending.set(index, { term, resolve, reject }));
  }

  /**
   * Resolves with the read index answered for `ctx`. The core forgets unanswered reads when its
   * role changes: the node then calls rejectReads, so the caller retries at the new leader.
   */
  awaitReadIndex(ctx: string): Promise<number> {
    return new Promise<number>((resolve, reject) => this.reads.set(ctx, { resolve, reject }));
  }

  readState(rs: ReadState): void {
    const r = this.reads.get(rs.ctx);
    if (r) { this.reads.delete(rs.ctx); r.resolve(rs.index); }
  }

  /**
   * Rejects every read still waiting for its read index (leadership lost, or the node closing).
   * A read changes nothing, so failing it is always safe; a proposal is not failed this way, since
   * it may still commit under the next leader (settle() decides by its term).
   */
  rejectReads(err: Error): void {
    for (const r of this.reads.values()) r.reject(err);
    this.reads.clear();
  }

  /** Resolves once entry `index` was applied. */
  appliedUpTo(index: number): Promise<void> {
    if (this.applied >= index) return Promise.resolve();
    return new Promise<void>((resolve) => this.waiters.push({ index, resolve }));
  }

  /** Whether enough entries were applied since the last snapshot to take another. */
  snapshotDue(): boolean {
    return this.sinceSnapshot >= SNAPSHOT_EVERY;
  }

  snapshotTaken(): void {
    this.sinceSnapshot = 0;
  }

  /** Rejects every waiting proposal and read (the node is closing). */
  rejectAll(err: Error): void {
    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.rejectReads(err);
  }

  private settle(e: Entry, result: KvResult): void {
    const p = this.pending.get(e.index);
    if (!p) return;
    this.pending.delete(e.index);
    if (p.term === e.term) p.resolve(result);
    else p.reject(new NoLeaderError('leadership changed before the request committed'));
  }
}
