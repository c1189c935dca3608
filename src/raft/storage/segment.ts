/**
 * Log segment files: `wal-<seq>.log`, append-only, a sequence of write batches. Every segment
 * starts with one batch holding its header (its own seq, so a renamed file is noticed) and the
 * hard state in force when it was created. Replaying from any segment onwards therefore ends
 * with the latest hard state, which is what lets compaction delete older segments.
 *
 * Preallocation: the file grows in zero-filled chunks ahead of the batches (as etcd's WAL and
 * PostgreSQL's do). An fdatasync of data written over blocks that are already allocated, inside
 * the file's size, has no metadata to commit, so it does not wait for a journal commit that
 * other writers on the same file system also feed; that halves the fsync tail here. Recovery
 * reads a zero-filled tail as free space (record.ts).
 */
import { closeSync, fdatasync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { HardState } from '../core/types.js';
import { encodeBatch } from './codec.js';
import { FILE_MODE, segmentName, writeFileAtomic, writeFully } from './files.js';

/** An open segment that batches are appended to. */
export class SegmentWriter {
  /** The file's size: `bytes` of batches, then zeros (preallocated) up to here. */
  private allocated: number;

  private constructor(
    readonly seq: number,
    readonly path: string,
    private fd: number,
    private bytes: number,
    /** Grow the file by this many zero bytes at a time; 0: let each append grow it. */
    private readonly chunkBytes: number,
  ) {
    this.allocated = fstatSync(fd).size;
  }

  /**
   * Creates segment `seq` holding its header and `hardState`. The file is written under a temp
   * name and renamed, so after a crash a segment either does not exist or has its header batch.
   */
  static create(dir: string, seq: number, hardState: HardState, chunkBytes = 0): SegmentWriter {
    const content = encodeBatch([{ kind: 'segment-header', seq }, { kind: 'hard-state', hardState }]);
    writeFileAtomic(dir, segmentName(seq), content);
    return SegmentWriter.reopen(dir, seq, content.length, chunkBytes);
  }

  /** Opens an existing segment (recovered: `bytes` of batches, maybe followed by zeros) for appending. */
  static reopen(dir: string, seq: number, bytes: number, chunkBytes = 0): SegmentWriter {
    const path = join(dir, segmentName(seq));
    return new SegmentWriter(seq, path, openSync(path, 'r+', FILE_MODE), bytes, chunkBytes);
  }

  /** Bytes of batches (the zeros after them are not counted). */
  get size(): number {
    return this.bytes;
  }

  /**
   * Makes room for `n` more bytes of batches: zero-fills the next chunk(s). Not fsync'd here: the
   * next batch's fdatasync flushes the new size and blocks with it, once per chunk.
   */
  private reserve(n: number): void {
    if (this.chunkBytes <= 0 || this.bytes + n <= this.allocated) return;
    const target = Math.ceil((this.bytes + n) / this.chunkBytes) * this.chunkBytes;
    const zeros = Buffer.alloc(Math.min(target - this.allocated, this.chunkBytes));
    for (let at = this.allocated; at < target; at += zeros.length) writeFully(this.fd, zeros.subarray(0, Math.min(zeros.length, target - at)), at);
    this.allocated = target;
  }

  /**
   * Appends one batch and makes it durable (fdatasync suffices: it also flushes the file size
   * that the appended data needs to be read back).
   */
  appendDurably(batch: Buffer): void {
    this.reserve(batch.length);
    writeFully(this.fd, batch, this.bytes);
    fdatasyncSync(this.fd);
    this.bytes += batch.length;
  }

  /**
   * Appends one batch to the file (the page cache: NOT durable until `sync` resolves). The write
   * itself stays synchronous: it costs microseconds, and it fixes the batch's place in the file
   * before anything else can be appended.
   */
  append(batch: Buffer): void {
    this.reserve(batch.length);
    writeFully(this.fd, batch, this.bytes);
    this.bytes += batch.length;
  }

  /** fdatasync on libuv's thread pool, so the event loop keeps running while the disk works. */
  sync(): Promise<void> {
    const fd = this.fd;
    return new Promise((resolve, reject) => fdatasync(fd, (err) => (err ? reject(err) : resolve())));
  }

  close(): void {
    if (this.fd < 0) return;
    closeSync(this.fd);
    this.fd = -1;
  }
}

/** Cuts `path` to `length` bytes, durably. */
export function truncateDurably(path: string, length: number): void {
  const fd = openSync(path, 'r+');
  try {
    ftruncateSync(fd, length);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
