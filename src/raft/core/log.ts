/**
 * The Raft log as the core sees it: durable entries in Storage plus an unstable tail (and
 * possibly an unstable snapshot) that the driver has not persisted yet.
 *
 * Invariants: committed <= lastIndex(); applying <= committed; committed entries are never
 * truncated (an attempt throws InvariantError: it would mean a safety bug).
 */
import { InvariantError, invariant } from './errors.js';
import type { Storage } from './storage.js';
import type { Entry, Snapshot } from './types.js';

/** Not-yet-persisted state: entries from `offset` on, and/or a snapshot received from a leader. */
class Unstable {
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];
  constructor(public offset: number) {}

  firstIndex(): number | null {
    return this.snapshot === null ? null : this.snapshot.index + 1;
  }

  lastIndex(): number | null {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot === null ? null : this.snapshot.index;
  }

  term(index: number): number | null {
    if (index < this.offset) {
      return this.snapshot !== null && this.snapshot.index === index ? this.snapshot.term : null;
    }
    return this.entries[index - this.offset]?.term ?? null;
  }

  /** The driver persisted entries up to (index, term): forget them, unless they were replaced. */
  stableTo(index: number, term: number): void {
    if (index < this.offset || this.term(index) !== term) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
  }

  stableSnapTo(index: number): void {
    if (this.snapshot !== null && this.snapshot.index === index) this.snapshot = null;
  }

  restore(s: Snapshot): void {
    this.offset = s.index + 1;
    this.entries = [];
    this.snapshot = s;
  }

  truncateAndAppend(ents: readonly Entry[]): void {
    const after = ents[0]!.index;
    if (after === this.offset + this.entries.length) {
      this.entries = this.entries.concat(ents);
    } else if (after <= this.offset) {
      // Replaces part of the stable log too: those storage entries are shadowed from now on and
      // overwritten when the driver persists these.
      this.offset = after;
      this.entries = ents.slice();
    } else {
      this.entries = this.entries.slice(0, after - this.offset).concat(ents);
    }
  }

  slice(lo: number, hi: number): Entry[] {
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}

export class RaftLog {
  private readonly unstable: Unstable;
  /** Highest index known to be committed. */
  committed: number;
  /** Highest index handed to the driver for applying (through Ready.committed or a snapshot). */
  applying: number;

  constructor(
    readonly storage: Storage,
    committed: number,
    applied: number,
  ) {
    this.unstable = new Unstable(storage.lastIndex() + 1);
    const snapIndex = storage.firstIndex() - 1;
    invariant(committed <= storage.lastIndex(), () => `commit ${committed} beyond last stored index ${storage.lastIndex()}`);
    this.committed = Math.max(committed, snapIndex);
    this.applying = Math.min(Math.max(applied, snapIndex), this.committed);
  }

  firstIndex(): number {
    return this.unstable.firstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.lastIndex() ?? this.storage.lastIndex();
  }

  /** Term of entry `index`, or null when it is compacted away or beyond the end. */
  term(index: number): number | null {
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return null;
    return this.unstable.term(index) ?? this.storage.term(index);
  }

  lastTerm(): number {
    const t = this.term(this.lastIndex());
    invariant(t !== null, 'term of the last entry is unavailable');
    return t;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Entries in [lo, hi) (hi clamped to lastIndex()+1); null if `lo` was compacted. */
  entries(lo: number, hi: number): Entry[] | null {
    hi = Math.min(hi, this.lastIndex() + 1);
    if (lo < this.firstIndex()) return null;
    if (lo >= hi) return [];
    const off = this.unstable.offset;
    const out: Entry[] = [];
    if (lo < off) {
      const stored = this.storage.entries(lo, Math.min(hi, off));
      if (stored === null) return null;
      out.push(...stored);
    }
    if (hi > off) out.push(...this.unstable.slice(Math.max(lo, off), hi));
    return out;
  }

  /** Raft §5.4.1: is a log ending at (lastIndex, lastTerm) at least as up to date as ours? */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ours = this.lastTerm();
    return lastTerm > ours || (lastTerm === ours && lastIndex >= this.lastIndex());
  }

  /**
   * Follower side of AppendEntries. Returns null when our log has no entry (prevIndex, prevTerm);
   * otherwise appends what is new, advances commit, and returns the index of the last entry the
   * leader sent plus the first index that was (re)written (0 if nothing changed).
   */
  maybeAppend(
    prevIndex: number,
    prevTerm: number,
    commit: number,
    ents: readonly Entry[],
  ): { lastNew: number; conflictFrom: number } | null {
    if (!this.matchTerm(prevIndex, prevTerm)) return null;
    const lastNew = prevIndex + ents.length;
    const conflictFrom = this.findConflict(ents);
    if (conflictFrom !== 0) this.append(ents.slice(conflictFrom - (prevIndex + 1)));
    this.commitTo(Math.min(commit, lastNew));
    return { lastNew, conflictFrom };
  }

  /** First entry of `ents` whose term differs from ours (or that we lack); 0 if none. */
  private findConflict(ents: readonly Entry[]): number {
    for (const e of ents) if (!this.matchTerm(e.index, e.term)) return e.index;
    return 0;
  }

  /** Appends contiguous entries, replacing any from ents[0].index on; returns the new lastIndex. */
  append(ents: readonly Entry[]): number {
    const first = ents[0];
    if (first === undefined) return this.lastIndex();
    if (first.index - 1 < this.committed) {
      throw new InvariantError(`append at ${first.index} would overwrite committed entry ${this.committed}`);
    }
    invariant(first.index <= this.lastIndex() + 1, () => `append at ${first.index} leaves a gap after ${this.lastIndex()}`);
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  commitTo(index: number): void {
    if (index <= this.committed) return;
    invariant(index <= this.lastIndex(), () => `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
  }

  /** Replaces the log with a snapshot received from the leader. */
  restore(s: Snapshot): void {
    this.committed = s.index;
    this.applying = s.index;
    this.unstable.restore(s);
  }

  unstableEntries(): readonly Entry[] {
    return this.unstable.entries;
  }

  unstableSnapshot(): Snapshot | null {
    return this.unstable.snapshot;
  }

  hasNextCommitted(): boolean {
    return this.applying < this.committed;
  }

  /** Committed entries not yet handed out for applying, at most `max` of them. */
  nextCommitted(max: number): Entry[] {
    if (!this.hasNextCommitted()) return [];
    const ents = this.entries(this.applying + 1, Math.min(this.committed + 1, this.applying + 1 + max));
    invariant(ents !== null, () => `committed entries after ${this.applying} were compacted before being applied`);
    return ents;
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term);
  }

  stableSnapTo(index: number): void {
    this.unstable.stableSnapTo(index);
  }

  /** The snapshot a lagging follower should receive. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /**
   * First index of the run of entries with the same term as entry `index` (bounded below by the
   * first available entry): the "first index of the conflicting term" in a rejection hint.
   */
  firstIndexOfTermAt(index: number): number {
    const t = this.term(index);
    let i = index;
    while (i - 1 >= this.firstIndex() && this.term(i - 1) === t) i--;
    return i;
  }
}
