/**
 * Errors of the durable log store. Broken caller contracts (a gap in appended entries, an old
 * snapshot) are InvariantErrors from the core instead: they are bugs, not conditions.
 */

/**
 * Stored data is damaged in a way a crash cannot explain (a bad record followed by later
 * intact writes, a missing segment, an undecodable record). Opening refuses rather than guess;
 * an operator restores the node from its peers (remove it, wipe the directory, add it back).
 */
export class StorageCorruptionError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number | null,
    detail: string,
  ) {
    super(`raft storage is corrupt: ${file}${offset === null ? '' : ` at offset ${offset}`}: ${detail}`);
    this.name = new.target.name;
  }
}

/** Another live process (or another open DiskStorage in this one) holds the data directory. */
export class StorageLockedError extends Error {
  constructor(readonly dir: string, readonly pid: number) {
    super(`raft data directory ${dir} is in use by process ${pid}; two stores on one directory would corrupt it`);
    this.name = new.target.name;
  }
}

/**
 * A write or fsync failed. The store refuses all further use: after a failed fsync the kernel
 * may have dropped the dirty pages, so what is on disk is unknown until the process restarts
 * and recovers (the lesson of PostgreSQL's "fsyncgate").
 */
export class StorageFailedError extends Error {
  constructor(readonly dir: string, cause: unknown) {
    super(`raft storage in ${dir} failed and must be reopened: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
    this.name = new.target.name;
  }
}
