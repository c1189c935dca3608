/**
 * Small pieces of the Raft node driver (node.ts): its error classes, its seeded Rng and the local
 * watch over the applied state.
 */
import type { Rng } from './core/index.js';
import type { KvStateMachine, WatchResult } from './kv/index.js';

/** A membership change or transfer the leader refused (not a lost leader): retrying will not help by itself. */
export class RaftRefusedError extends Error {
  constructor(message: string) { super(message); this.name = 'RaftRefusedError'; }
}

/** No Raft leader answered in time (none known, no quorum, leadership changed mid-request). */
export class NoLeaderError extends Error {
  constructor(message: string) { super(message); this.name = 'NoLeaderError'; }
}

/** xorshift32: the core's election jitter needs a cheap Rng, not a cryptographic one. */
export function seededRng(seed: number): Rng {
  let s = seed >>> 0 || 1;
  return { intBelow: (n) => { s ^= s << 13; s ^= s >>> 17; s ^= s << 5; return (s >>> 0) % n; } };
}

/**
 * Resolves with the changes under `prefix` after `afterRevision` in `kv` (this node's applied
 * state) as soon as there are any, else with an empty result after `timeoutMs`.
 */
export function watchLocal(kv: KvStateMachine, afterRevision: number, prefix: string, timeoutMs: number): Promise<WatchResult> {
  const now = kv.watch(afterRevision, prefix);
  if (now.kind === 'compacted' || now.events.length > 0) return Promise.resolve(now);
  return new Promise<WatchResult>((resolve) => {
    let unsubscribe = () => {};
    const t = setTimeout(() => { unsubscribe(); resolve(kv.watch(afterRevision, prefix)); }, timeoutMs);
    unsubscribe = kv.subscribe(() => {
      const w = kv.watch(afterRevision, prefix);
      if (w.kind === 'compacted' || w.events.length > 0) { clearTimeout(t); unsubscribe(); resolve(w); }
    });
  });
}
