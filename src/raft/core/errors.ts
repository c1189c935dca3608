/**
 * A broken invariant inside the Raft core: a caller bug or a bug in the core itself, never
 * something a user or the network can cause. Like etcd's panics, it is not meant to be caught
 * and recovered from; the process should crash and restart from its persisted state.
 */
export class InvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Throws an InvariantError with `message` unless `condition` holds. */
export function invariant(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) throw new InvariantError(typeof message === 'string' ? message : message());
}
