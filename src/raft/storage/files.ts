/**
 * File-system helpers with the durability rules spelled out: a file's data is durable after
 * fsync of the file, and its name (creation, rename, deletion) only after fsync of the
 * directory that holds it.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StorageLockedError } from './errors.js';

export const FILE_MODE = 0o600;
export const SNAPSHOT_FILE = 'snapshot.bin';
export const LOCK_FILE = 'LOCK';
const TMP_SUFFIX = '.tmp';
const SEGMENT_RE = /^wal-(\d{10,})\.log$/;

/** Makes creations, renames and deletions in `dir` durable. */
export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try { fsyncSync(fd); } finally { closeSync(fd); }
}

/** Writes all of `buf` at `position`; writeSync may write less than asked. */
export function writeFully(fd: number, buf: Buffer, position: number): void {
  let done = 0;
  while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, position + done);
}

/**
 * Replaces `dir/name` with `content` atomically: readers (and recovery after a crash) see the
 * old file or the new one, never a mix. Durable on return.
 */
export function writeFileAtomic(dir: string, name: string, content: Buffer): void {
  const tmp = join(dir, name + TMP_SUFFIX);
  const fd = openSync(tmp, 'w', FILE_MODE);
  try {
    writeFully(fd, content, 0);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, join(dir, name));
  fsyncDir(dir);
}

export const segmentName = (seq: number): string => `wal-${String(seq).padStart(10, '0')}.log`;

/** Segment sequence numbers present in `dir`, ascending. */
export function listSegments(dir: string): number[] {
  const seqs: number[] = [];
  for (const name of readdirSync(dir)) {
    const m = SEGMENT_RE.exec(name);
    if (m?.[1] !== undefined) seqs.push(Number(m[1]));
  }
  return seqs.sort((a, b) => a - b);
}

/** Leftovers of an atomic write interrupted by a crash; they were never in effect. */
export function removeTempFiles(dir: string): string[] {
  const gone = readdirSync(dir).filter((n) => n.endsWith(TMP_SUFFIX));
  for (const n of gone) unlinkSync(join(dir, n));
  return gone;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the directory's lock file (it holds the owner's pid). A lock left by a dead process
 * (kill -9, power loss) is taken over; one held by a live process, including this one, throws
 * StorageLockedError. Node has no flock(), hence the pid check.
 */
export function acquireLock(dir: string): () => void {
  const path = join(dir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', FILE_MODE);
      try { writeFully(fd, Buffer.from(`${process.pid}\n`), 0); } finally { closeSync(fd); }
      return () => { try { unlinkSync(path); } catch { /* already gone: nothing to release */ } };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = lockOwner(path);
    if (owner !== null && isAlive(owner)) throw new StorageLockedError(dir, owner);
    // Stale: its owner is gone. If another process takes it over first, the retry sees that.
    try { unlinkSync(path); } catch { /* vanished meanwhile */ }
  }
  throw new StorageLockedError(dir, lockOwner(path) ?? -1);
}

function lockOwner(path: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** mkdir -p with mode 0700, then fsync the parents of every directory it created. */
export function makeDirDurably(dir: string): void {
  const created = mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (created === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    fsyncDir(dirname(d));
    if (d === created || dirname(d) === d) return;
  }
}
