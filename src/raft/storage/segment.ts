/**
 * Log segment files: `wal-<seq>.log`, append-only, a sequence of write batches. Every segment
 * starts with one batch holding its header (its own seq, so a renamed file is noticed) and the
 * hard state in force when it was created. Replaying from any segment onwards therefore ends
 * with the latest hard state, which is what lets compaction delete older segments.
 */
import { closeSync, fdatasyncSync, fsyncSync, ftruncateSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { HardState } from '../core/types.js';
import { encodeBatch } from './codec.js';
import { FILE_MODE, segmentName, writeFileAtomic, writeFully } from './files.js';

/** An open segment that batches are appended to. */
export class SegmentWriter {
  private constructor(
    readonly seq: number,
    readonly path: string,
    private fd: number,
    private bytes: number,
  ) {}

  /**
   * Creates segment `seq` holding its header and `hardState`. The file is written under a temp
   * name and renamed, so after a crash a segment either does not exist or has its header batch.
   */
  static create(dir: string, seq: number, hardState: HardState): SegmentWriter {
    const content = encodeBatch([{ kind: 'segment-header', seq }, { kind: 'hard-state', hardState }]);
    writeFileAtomic(dir, segmentName(seq), content);
    return SegmentWriter.reopen(dir, seq, content.length);
  }

  /** Opens an existing segment (recovered, `bytes` long) for appending. */
  static reopen(dir: string, seq: number, bytes: number): SegmentWriter {
    const path = join(dir, segmentName(seq));
    return new SegmentWriter(seq, path, openSync(path, 'r+', FILE_MODE), bytes);
  }

  get size(): number {
    return this.bytes;
  }

  /**
   * Appends one batch and makes it durable (fdatasync suffices: it also flushes the file size
   * that the appended data needs to be read back).
   */
  appendDurably(batch: Buffer): void {
    writeFully(this.fd, batch, this.bytes);
    fdatasyncSync(this.fd);
    this.bytes += batch.length;
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
