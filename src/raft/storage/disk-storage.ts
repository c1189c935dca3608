/**
 * DiskStorage: the Raft log, hard state and snapshot on disk, with the whole state mirrored in
 * memory so that the core's reads (the Storage interface) never touch the disk.
 *
 * Invariant: whatever a write method has returned from (or, for persistAsync, resolved) is on
 * stable storage (file data and directory entries fsync'd), and the in-memory mirror equals what
 * recovery would rebuild from the directory at that moment. The mirror is only updated after the
 * disk write succeeded. While a persistAsync waits for its fdatasync, the file may already hold
 * its batch (recovery keeps it: as if the crash had come just after the fsync).
 *
 * Layout of the directory (mode 0700):
 *   LOCK              pid of the owning process
 *   snapshot.bin      latest snapshot + compaction point + first segment still needed (atomic)
 *   wal-<seq>.log     append-only segments of checksummed records, one write batch per persist
 *
 * Memory: all entries after the compaction point are held in memory; the driver bounds them by
 * compacting regularly (the KV state machine is small, so its snapshots are cheap).
 */
import { unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { invariant } from '../core/errors.js';
import type { Storage } from '../core/storage.js';
import type { Entry, HardState, Snapshot } from '../core/types.js';
import { encodeBatch, type RecordItem } from './codec.js';
import { StorageFailedError } from './errors.js';
import { SNAPSHOT_FILE, acquireLock, fsyncDir, makeDirDurably, segmentName, writeFileAtomic } from './files.js';
import { stderrLogger, type StorageLogger } from './logger.js';
import { recover, type Recovered, type SegmentInfo } from './recovery.js';
import { SegmentWriter } from './segment.js';

export const DEFAULT_SEGMENT_BYTES = 8 * 1024 * 1024;
export const DEFAULT_PREALLOCATE_BYTES = 1024 * 1024;

export interface DiskStorageOptions {
  /** Receives repairs made on open (a cut torn tail, removed leftovers). Default: stderr. */
  readonly logger?: StorageLogger;
  /** A new segment is started once the current one reaches this size. Default 8 MiB. */
  readonly segmentBytes?: number;
  /**
   * Segment files grow in zero-filled chunks of this size (at most segmentBytes), so that the
   * fsync of an append has no file-size change to commit (segment.ts). 0: grow with each append.
   * Default 1 MiB.
   */
  readonly preallocateBytes?: number;
}

/** What one persist call writes; a Ready has this shape, so `persist(ready)` works. */
export interface PersistBatch {
  readonly snapshot?: Snapshot | null;
  readonly entries?: readonly Entry[];
  readonly hardState?: HardState | null;
}

/** A validated, encoded persist batch (see DiskStorage.plan). */
interface WritePlan {
  readonly snap: Snapshot | null;
  readonly snapFile: Buffer | null;
  readonly fresh: readonly Entry[];
  /** The hard state to write: the batch's, or a deferred commit index riding along. */
  readonly hard: HardState | null;
  readonly encoded: Buffer | null;
}

export class DiskStorage implements Storage {
  private hard: HardState;
  private snap: Snapshot;
  /** Compaction point: entries <= baseIndex are gone; baseTerm is the term of entry baseIndex. */
  private baseIndex: number;
  private baseTerm: number;
  private ents: Entry[];
  private segments: SegmentInfo[];
  private tail: SegmentWriter;
  private failure: StorageFailedError | null = null;
  /** The in-memory hard state has a newer commit index than the last one written (see persist). */
  private commitDeferred = false;
  /** A persistAsync has written its batch and waits for its fdatasync. */
  private writing = false;
  private closed = false;

  private constructor(
    readonly dir: string,
    private readonly segmentBytes: number,
    /** Preallocation chunk of the segment files (0: none). */
    private readonly chunkBytes: number,
    private readonly releaseLock: () => void,
    rec: Recovered,
  ) {
    // The commit index on disk may lag (persist defers commit-only changes); a snapshot holds only
    // committed entries, so its index is a safe floor.
    this.hard = rec.hardState.commit < rec.snapshot.index ? { ...rec.hardState, commit: rec.snapshot.index } : rec.hardState;
    this.snap = rec.snapshot;
    this.baseIndex = rec.baseIndex;
    this.baseTerm = rec.baseTerm;
    this.ents = rec.entries;
    this.segments = rec.segments;
    const last = this.segments[this.segments.length - 1];
    if (last !== undefined) {
      this.tail = SegmentWriter.reopen(dir, last.seq, rec.tailBytes, chunkBytes);
    } else {
      this.tail = SegmentWriter.create(dir, rec.startSeq, this.hard, chunkBytes);
      this.segments.push({ seq: rec.startSeq, maxIndex: 0 });
    }
  }

  /**
   * Opens (creating if needed) the store in `dir`, recovering from a crash: a torn tail is cut
   * and logged; damage a crash cannot explain throws StorageCorruptionError naming the file and
   * offset; a directory held by a live process throws StorageLockedError.
   */
  static open(dir: string, opts: DiskStorageOptions = {}): DiskStorage {
    const segmentBytes = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    invariant(Number.isInteger(segmentBytes) && segmentBytes > 0, () => `segmentBytes must be a positive integer, got ${segmentBytes}`);
    const prealloc = opts.preallocateBytes ?? DEFAULT_PREALLOCATE_BYTES;
    invariant(Number.isInteger(prealloc) && prealloc >= 0, () => `preallocateBytes must be a non-negative integer, got ${prealloc}`);
    makeDirDurably(resolve(dir));
    const release = acquireLock(dir);
    try {
      return new DiskStorage(dir, segmentBytes, Math.min(prealloc, segmentBytes), release, recover(dir, opts.logger ?? stderrLogger));
    } catch (e) {
      release();
      throw e;
    }
  }

  // ---- Storage (reads, all from memory) --------------------------------------------------

  initialState(): HardState {
    return this.hard;
  }

  entries(lo: number, hi: number): readonly Entry[] | null {
    if (lo <= this.baseIndex) return null;
    invariant(lo <= hi && hi <= this.lastIndex() + 1, () => `entries(${lo}, ${hi}) out of bounds [${this.firstIndex()}, ${this.lastIndex() + 1})`);
    return this.ents.slice(lo - this.baseIndex - 1, hi - this.baseIndex - 1);
  }

  term(index: number): number | null {
    if (index === this.baseIndex) return this.baseTerm;
    if (index < this.baseIndex || index > this.lastIndex()) return null;
    return this.ents[index - this.baseIndex - 1]?.term ?? null;
  }

  firstIndex(): number {
    return this.baseIndex + 1;
  }

  lastIndex(): number {
    return this.baseIndex + this.ents.length;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  // ---- writes (each durable on return) ---------------------------------------------------

  /**
   * Carries out the persistence duties of one Ready, durably, with ONE fdatasync for the
   * entries and hard state: first installs `snapshot` (replacing the whole log), then appends
   * `entries` (an entry at index i replaces every stored entry >= i; entries at or below the
   * compaction point are skipped), then stores `hardState`. Returns once all of it is on disk;
   * only then may the driver send the Ready's messages. Throws InvariantError on a caller bug
   * (nothing written) and StorageFailedError on an I/O error (the store is then unusable).
   *
   * Exception: a batch holding only a hard state whose term and vote are unchanged (the commit
   * index advanced) is kept in memory and written with the next durable batch, as etcd does (its
   * MustSync): the commit index is volatile in Raft (a restarted node re-learns it from the
   * leader), and an fdatasync per commit doubled the fsyncs of every client write. After a crash
   * the recovered commit index may therefore be older, never newer, than the one acknowledged.
   */
  persist(batch: PersistBatch): void {
    const plan = this.plan(batch);
    if (plan !== null) this.persistPlanned(plan);
  }

  /**
   * persist(), with the fdatasync on libuv's thread pool instead of the event loop: the same
   * checks (a caller bug rejects with InvariantError, nothing written), the same deferral of
   * commit-only hard states, and the same guarantee once the promise resolves: all of `batch` is
   * on disk and mirrored in memory. Until then the reads (entries, term, lastIndex,
   * initialState) still show the store as it was, and every other write method throws
   * InvariantError: one write at a time. A snapshot install (rare) is done synchronously. An I/O
   * error rejects with StorageFailedError (the store is then unusable).
   */
  async persistAsync(batch: PersistBatch): Promise<void> {
    const plan = this.plan(batch);
    if (plan === null) return;
    if (plan.snap !== null || plan.encoded === null) {
      this.persistPlanned(plan);
      return;
    }
    const encoded = plan.encoded;
    this.writing = true;
    try {
      this.guard(() => this.tail.append(encoded));
      try {
        await this.tail.sync();
      } catch (e) {
        this.failure = new StorageFailedError(this.dir, e);
        throw this.failure;
      }
      this.guard(() => this.mirrorAppended(plan.fresh, plan.hard));
    } finally {
      this.writing = false;
    }
    this.wrote(plan);
  }

  /**
   * Validates and encodes `batch` (nothing is written); null when it only advances the commit
   * index, which is then kept in memory (see persist).
   */
  private plan(batch: PersistBatch): WritePlan | null {
    this.checkUsable();
    const snap = batch.snapshot ?? null;
    if (snap !== null) this.checkInstallable(snap);
    const base = snap?.index ?? this.baseIndex;
    const fresh = this.checkedEntries(batch.entries ?? [], base, snap?.index ?? this.lastIndex());
    const hs = batch.hardState ?? null;
    const newLast = fresh[fresh.length - 1]?.index ?? (snap?.index ?? this.lastIndex());
    if (hs !== null) invariant(hs.commit <= newLast, () => `hard state commit ${hs.commit} is beyond the last entry ${newLast}`);
    if (snap === null && fresh.length === 0 && hs !== null && hs.term === this.hard.term && hs.vote === this.hard.vote) {
      this.commitDeferred = this.commitDeferred || hs.commit !== this.hard.commit;
      this.hard = hs;
      return null;
    }
    // A deferred commit index rides along with the next durable batch.
    const hard = hs ?? (this.commitDeferred ? this.hard : null);
    // Encode before writing anything: an unencodable batch is refused with the store intact.
    const snapFile = snap === null ? null : this.encodeSnapshotFile(snap, snap.index, snap.term, this.tail.seq + 1);
    const items: RecordItem[] = fresh.map((entry) => ({ kind: 'entry', entry }));
    // After the entries: a torn batch that kept the hard state kept its entries too.
    if (hard !== null) items.push({ kind: 'hard-state', hardState: hard });
    const encoded = items.length > 0 ? encodeBatch(items) : null;
    return { snap, snapFile, fresh, hard, encoded };
  }

  private persistPlanned(plan: WritePlan): void {
    this.guard(() => {
      if (plan.snap !== null && plan.snapFile !== null) this.installSnapshot(plan.snap, plan.snapFile);
      if (plan.encoded !== null) this.appendBatch(plan.encoded, plan.fresh, plan.hard);
    });
    this.wrote(plan);
  }

  private wrote(plan: WritePlan): void {
    if (plan.encoded !== null && plan.hard !== null) this.commitDeferred = false;
  }

  /** persist({ entries }). */
  append(entries: readonly Entry[]): void {
    this.persist({ entries });
  }

  /** persist({ hardState }). */
  setHardState(hardState: HardState): void {
    this.persist({ hardState });
  }

  /** persist({ snapshot }): a snapshot received from the leader replaces the whole log. */
  applySnapshot(snapshot: Snapshot): void {
    this.persist({ snapshot });
  }

  /**
   * Records `snap` (a state-machine image of applied, hence committed, entries) as the latest
   * snapshot and drops entries <= `index` (<= snap.index: keeping a few entries past the
   * compaction point spares slow followers a snapshot). Segments holding only dropped entries
   * are deleted. Durable on return.
   */
  compact(index: number, snap: Snapshot): void {
    this.checkUsable();
    invariant(snap.index >= this.snap.index, () => `snapshot ${snap.index} is older than the stored snapshot ${this.snap.index}`);
    invariant(index <= snap.index, () => `compact(${index}) beyond its snapshot ${snap.index}`);
    invariant(snap.index <= this.hard.commit, () => `snapshot ${snap.index} is beyond the commit index ${this.hard.commit}`);
    invariant(this.term(snap.index) === snap.term, () => `snapshot ${snap.index} has term ${snap.term}, the log has ${String(this.term(snap.index))}`);
    const newBase = Math.max(index, this.baseIndex);
    const baseTerm = this.term(newBase) ?? 0;
    // The first segment that may hold an entry after the new compaction point; older ones go.
    const startSeq = this.segments.find((s) => s.maxIndex > newBase)?.seq ?? this.tail.seq;
    const snapFile = this.encodeSnapshotFile(snap, newBase, baseTerm, startSeq);
    this.guard(() => {
      writeFileAtomic(this.dir, SNAPSHOT_FILE, snapFile);
      this.ents = this.ents.slice(newBase - this.baseIndex);
      this.baseIndex = newBase;
      this.baseTerm = baseTerm;
      this.snap = snap;
      this.dropSegmentsBefore(startSeq);
    });
  }

  /** Releases the directory. Everything written is already durable; further use throws. */
  close(): void {
    if (this.closed) return;
    invariant(!this.writing, () => `raft storage in ${this.dir}: close() while a persistAsync is in flight; await it first`);
    if (this.commitDeferred && this.failure === null) {
      // A clean stop leaves the latest commit index on disk (best effort: it is volatile anyway).
      try { this.guard(() => this.appendBatch(encodeBatch([{ kind: 'hard-state', hardState: this.hard }]), [], this.hard)); } catch { /* store now failed */ }
      this.commitDeferred = false;
    }
    this.closed = true;
    this.tail.close();
    this.releaseLock();
  }

  /** Segment numbers in use, oldest first (for metrics and tests). */
  segmentSeqs(): number[] {
    return this.segments.map((s) => s.seq);
  }

  // ---- internals ---------------------------------------------------------------------------

  private checkUsable(): void {
    invariant(!this.closed, () => `raft storage in ${this.dir} is closed`);
    if (this.failure !== null) throw this.failure;
    invariant(!this.writing, () => `raft storage in ${this.dir}: a persistAsync is still in flight (one write at a time)`);
  }

  /** Runs disk work; any error poisons the store (see StorageFailedError). */
  private guard(work: () => void): void {
    try {
      work();
    } catch (e) {
      this.failure = new StorageFailedError(this.dir, e);
      throw this.failure;
    }
  }

  private checkInstallable(snap: Snapshot): void {
    invariant(snap.index > this.snap.index || this.snap.index === 0, () => `snapshot ${snap.index} is not newer than the stored snapshot ${this.snap.index}`);
    // The core only restores a snapshot beyond its commit index; anything else would let a
    // crash leave a durable commit index beyond the log.
    invariant(snap.index >= this.hard.commit, () => `snapshot ${snap.index} is below the commit index ${this.hard.commit}`);
  }

  /** Validates `entries` against a log ending at `last` and compacted to `base`; returns those after `base`. */
  private checkedEntries(entries: readonly Entry[], base: number, last: number): readonly Entry[] {
    const first = entries[0];
    if (first === undefined) return entries;
    invariant(first.index <= last + 1, () => `append at ${first.index} leaves a gap after ${last}`);
    entries.forEach((e, i) => invariant(e.index === first.index + i, () => `entries are not consecutive: ${e.index} follows ${first.index + i - 1}`));
    return first.index > base ? entries : entries.filter((e) => e.index > base);
  }

  private encodeSnapshotFile(snapshot: Snapshot, baseIndex: number, baseTerm: number, startSeq: number): Buffer {
    return encodeBatch([{ kind: 'snapshot', body: { snapshot, baseIndex, baseTerm, startSeq } }]);
  }

  /** Appends the encoded batch of `fresh` and `hs`, then mirrors it in memory. */
  private appendBatch(encoded: Buffer, fresh: readonly Entry[], hs: HardState | null): void {
    this.tail.appendDurably(encoded);
    this.mirrorAppended(fresh, hs);
  }

  /** Mirrors a durable append of `fresh` and `hs` in memory; starts a new segment when due. */
  private mirrorAppended(fresh: readonly Entry[], hs: HardState | null): void {
    const head = fresh[0];
    if (head !== undefined) {
      this.ents.length = head.index - this.baseIndex - 1;
      for (const e of fresh) this.ents.push(e);
      const info = this.segments[this.segments.length - 1];
      if (info !== undefined) info.maxIndex = Math.max(info.maxIndex, this.lastIndex());
    }
    if (hs !== null) this.hard = hs;
    if (this.tail.size >= this.segmentBytes) this.rotate();
  }

  /**
   * Replaces the log with `snap`. Commit point: the rename of the snapshot file, which names a
   * fresh segment as the start of the log; older segments are deleted afterwards (or on the
   * next open, after a crash). The fresh segment carries the OLD hard state: the batch's new
   * one follows in appendBatch, and until then the old one is consistent with either log.
   */
  private installSnapshot(snap: Snapshot, snapFile: Buffer): void {
    // snapFile names tail.seq + 1 as the start of the log: the segment created here.
    const next = SegmentWriter.create(this.dir, this.tail.seq + 1, this.hard, this.chunkBytes);
    writeFileAtomic(this.dir, SNAPSHOT_FILE, snapFile);
    this.tail.close();
    this.tail = next;
    this.segments.push({ seq: next.seq, maxIndex: 0 });
    this.snap = snap;
    this.baseIndex = snap.index;
    this.baseTerm = snap.term;
    this.ents = [];
    this.dropSegmentsBefore(next.seq);
  }

  private rotate(): void {
    const next = SegmentWriter.create(this.dir, this.tail.seq + 1, this.hard, this.chunkBytes);
    this.tail.close();
    this.tail = next;
    this.segments.push({ seq: next.seq, maxIndex: 0 });
  }

  private dropSegmentsBefore(seq: number): void {
    const gone = this.segments.filter((s) => s.seq < seq);
    if (gone.length === 0) return;
    this.segments = this.segments.filter((s) => s.seq >= seq);
    for (const s of gone) unlinkSync(join(this.dir, segmentName(s.seq)));
    fsyncDir(this.dir);
  }
}
