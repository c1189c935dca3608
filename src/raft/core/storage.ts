/**
 * The read side of durable storage, as the core sees it, and an in-memory implementation.
 *
 * The driver owns storage: it writes what each Ready tells it to persist, and only then calls
 * advance(). The core reads back through this interface, so everything returned here must
 * already be durable. Returned arrays may be kept by the core but are never mutated by it;
 * an implementation must not mutate arrays it has handed out either.
 */
import { invariant } from './errors.js';
import type { ConfState, Entry, HardState, NodeId, Snapshot } from './types.js';

export interface Storage {
  /** The last persisted HardState ({term: 0, vote: null, commit: 0} for a blank node). */
  initialState(): HardState;
  /**
   * Entries in [lo, hi), with firstIndex() <= lo <= hi <= lastIndex() + 1; null if `lo` has
   * been compacted away. Nothing else may fail: an I/O error is for the driver to handle.
   */
  entries(lo: number, hi: number): readonly Entry[] | null;
  /** Term of entry `index` for firstIndex() - 1 <= index <= lastIndex(), else null. */
  term(index: number): number | null;
  /** Index of the first entry still available (the one after the compaction point). */
  firstIndex(): number;
  /** Index of the last persisted entry (firstIndex() - 1 when there are none). */
  lastIndex(): number;
  /**
   * The most recent snapshot (index 0 and empty data when there has never been one). Its index
   * is always >= firstIndex() - 1, so it can stand in for every compacted entry.
   */
  snapshot(): Snapshot;
}

const EMPTY_CONF: ConfState = { voters: [], learners: [] };
const EMPTY_BYTES = new Uint8Array(0);

/**
 * The state a brand-new cluster's founding members start from: a snapshot at index 1, term 1,
 * holding the initial voters and the application's initial state. Every founder stores the same
 * value, so they agree on the first entry; a node that joins later receives this (or a later)
 * snapshot and so learns the founding membership, which is in no log entry.
 */
export function bootstrapState(
  voters: readonly NodeId[],
  data: Uint8Array = EMPTY_BYTES,
): { snapshot: Snapshot; hardState: HardState } {
  invariant(voters.length > 0, 'bootstrap needs at least one voter');
  invariant(new Set(voters).size === voters.length, () => `duplicate voter in [${voters.join(', ')}]`);
  const confState: ConfState = { voters: [...voters].sort(), learners: [] };
  return {
    snapshot: { index: 1, term: 1, confState, data },
    hardState: { term: 1, vote: null, commit: 1 },
  };
}

/**
 * Storage kept in memory. Used by the simulator as each node's "disk" (it keeps only what the
 * driver persisted, so a simulated crash loses exactly the unpersisted state) and usable by a
 * driver as a cache. Compaction is separate from snapshotting: entries up to `compact(index)` are
 * dropped, but only up to the latest snapshot.
 */
export class MemoryStorage implements Storage {
  private hard: HardState = { term: 0, vote: null, commit: 0 };
  private snap: Snapshot = { index: 0, term: 0, confState: EMPTY_CONF, data: EMPTY_BYTES };
  /** Index and term of the entry just before `ents[0]`. */
  private compactedIndex = 0;
  private compactedTerm = 0;
  private ents: Entry[] = [];

  /** A storage pre-loaded with bootstrapState(voters, data). */
  static bootstrap(voters: readonly NodeId[], data?: Uint8Array): MemoryStorage {
    const s = new MemoryStorage();
    const { snapshot, hardState } = bootstrapState(voters, data);
    s.applySnapshot(snapshot);
    s.setHardState(hardState);
    return s;
  }

  initialState(): HardState {
    return this.hard;
  }

  entries(lo: number, hi: number): readonly Entry[] | null {
    if (lo <= this.compactedIndex) return null;
    invariant(hi <= this.lastIndex() + 1 && lo <= hi, () => `entries(${lo}, ${hi}) out of bounds`);
    const off = this.compactedIndex + 1;
    return this.ents.slice(lo - off, hi - off);
  }

  term(index: number): number | null {
    if (index === this.compactedIndex) return this.compactedTerm;
    if (index < this.compactedIndex || index > this.lastIndex()) return null;
    return this.ents[index - this.compactedIndex - 1]?.term ?? null;
  }

  firstIndex(): number {
    return this.compactedIndex + 1;
  }

  lastIndex(): number {
    return this.compactedIndex + this.ents.length;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  setHardState(hs: HardState): void {
    this.hard = hs;
  }

  /** Appends entries; an entry at index i replaces every stored entry >= i. */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    invariant(first.index <= this.lastIndex() + 1, () => `append at ${first.index} leaves a gap after ${this.lastIndex()}`);
    // Entries already covered by compaction are durable in the snapshot: skip them.
    const fresh = entries.filter((e) => e.index > this.compactedIndex);
    const head = fresh[0];
    if (head === undefined) return;
    this.ents = this.ents.slice(0, head.index - this.compactedIndex - 1).concat(fresh);
  }

  /** Replaces the whole log with `snap` (a snapshot received from the leader). */
  applySnapshot(snap: Snapshot): void {
    invariant(snap.index > this.snap.index || this.snap.index === 0, () => `snapshot ${snap.index} is older than ${this.snap.index}`);
    this.snap = snap;
    this.compactedIndex = snap.index;
    this.compactedTerm = snap.term;
    this.ents = [];
  }

  /** Records a snapshot of the applied state at `index` (which must be stored and committed). */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    invariant(index > this.snap.index, () => `snapshot at ${index} is not newer than ${this.snap.index}`);
    const term = this.term(index);
    invariant(term !== null, () => `cannot snapshot at ${index}: entry not in storage`);
    this.snap = { index, term, confState, data };
    return this.snap;
  }

  /** Drops entries up to and including `index`, which must be covered by the latest snapshot. */
  compact(index: number): void {
    if (index <= this.compactedIndex) return;
    invariant(index <= this.snap.index, () => `compact(${index}) beyond snapshot ${this.snap.index}`);
    const term = this.term(index);
    invariant(term !== null, () => `compact(${index}): entry not in storage`);
    this.ents = this.ents.slice(index - this.compactedIndex);
    this.compactedIndex = index;
    this.compactedTerm = term;
  }
}
