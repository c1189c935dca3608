/**
 * Safety invariants checked while a simulation runs. Each check throws SafetyViolation with a
 * sentence naming the nodes, indexes and terms involved.
 *
 * - Election safety: at most one leader per term (over the whole run, crashes included).
 * - Log matching: two entries with the same index and term hold the same data and follow the
 *   same previous term (so, by induction, the logs agree up to there).
 * - Commit durability: once any node commits index i with (term, data), no node ever commits
 *   anything else at i, and every new leader holds every committed entry (leader completeness).
 * - State machine safety: every node applies the committed entries, in index order, no gaps.
 */
import type { Entry, NodeId } from '../../../src/raft/core/types.js';

export class SafetyViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SafetyViolation';
  }
}

const dec = new TextDecoder();
export const entryKey = (e: Entry): string => `${e.type}:${dec.decode(e.data)}`;

export class SafetyChecker {
  private readonly leaders = new Map<number, NodeId>();
  private readonly seen = new Map<string, { data: string; prevTerm: number | null }>();
  private readonly committed = new Map<number, { term: number; data: string }>();
  maxCommitted = 0;
  private readonly lastApplied = new Map<NodeId, number>();

  leader(id: NodeId, term: number): void {
    const other = this.leaders.get(term);
    if (other !== undefined && other !== id) throw new SafetyViolation(`two leaders in term ${term}: ${other} and ${id}`);
    this.leaders.set(term, id);
  }

  /** `prevTerm` is the node's term at e.index - 1 after the append (null if compacted). */
  appended(id: NodeId, e: Entry, prevTerm: number | null): void {
    const k = `${e.index}/${e.term}`;
    const data = entryKey(e);
    const before = this.seen.get(k);
    if (before === undefined) {
      this.seen.set(k, { data, prevTerm });
      return;
    }
    if (before.data !== data) throw new SafetyViolation(`log matching: ${id} holds ${k} with different data (${data} vs ${before.data})`);
    if (before.prevTerm !== null && prevTerm !== null && before.prevTerm !== prevTerm) {
      throw new SafetyViolation(`log matching: ${id} holds ${k} after term ${prevTerm}, another node after term ${before.prevTerm}`);
    }
    if (before.prevTerm === null) before.prevTerm = prevTerm;
  }

  /** A node committed `e` (or the entries of an installed snapshot, checked by term only). */
  committedEntry(id: NodeId, index: number, term: number, data: string | null): void {
    const before = this.committed.get(index);
    if (before === undefined) {
      if (data !== null) this.committed.set(index, { term, data });
      this.maxCommitted = Math.max(this.maxCommitted, index);
      return;
    }
    if (before.term !== term || (data !== null && before.data !== data)) {
      throw new SafetyViolation(`committed entry changed: ${id} has ${index}/${term} ${data ?? ''}, committed was ${index}/${before.term} ${before.data}`);
    }
  }

  /** Leader completeness: `term(i)` must match every committed entry from `from` to maxCommitted. */
  leaderHoldsCommitted(id: NodeId, from: number, term: (i: number) => number | null): void {
    for (let i = from; i <= this.maxCommitted; i++) {
      const c = this.committed.get(i);
      if (c === undefined) continue;
      const t = term(i);
      if (t !== c.term) throw new SafetyViolation(`leader completeness: new leader ${id} has ${t === null ? 'no entry' : `term ${t}`} at committed index ${i}/${c.term}`);
    }
  }

  /** The node restored a snapshot at `index`: its next applied entry is index + 1. */
  restored(id: NodeId, index: number): void {
    this.lastApplied.set(id, index);
  }

  applied(id: NodeId, e: Entry): void {
    const last = this.lastApplied.get(id) ?? 0;
    if (e.index !== last + 1) throw new SafetyViolation(`${id} applied ${e.index} after ${last}`);
    this.lastApplied.set(id, e.index);
    const c = this.committed.get(e.index);
    if (c === undefined) throw new SafetyViolation(`${id} applied ${e.index}/${e.term} which nobody committed`);
    if (c.term !== e.term || c.data !== entryKey(e)) {
      throw new SafetyViolation(`${id} applied ${e.index}/${e.term} ${entryKey(e)}, committed was ${c.term} ${c.data}`);
    }
  }
}
