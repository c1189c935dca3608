/**
 * Membership as a function of the log. A configuration takes effect as soon as its entry is in
 * the log (Raft thesis §4.1), committed or not, so a node's configuration is the one in its
 * newest conf-change entry; when that entry is truncated away the previous one is back in force.
 *
 * Invariant: points are sorted by index; the first is the base (a snapshot's membership) and is
 * never truncated (it is at or below the commit index).
 */
import { applyConfChange, decodeConfChange } from '../confchange/confchange.js';
import { InvariantError } from './errors.js';
import type { ConfState, Entry, NodeId } from './types.js';

interface ConfPoint {
  readonly index: number;
  readonly conf: ConfState;
}

export class ConfHistory {
  private points: ConfPoint[];

  constructor(baseIndex: number, base: ConfState) {
    this.points = [{ index: baseIndex, conf: base }];
  }

  current(): ConfState {
    return this.points[this.points.length - 1]!.conf;
  }

  /** Index of the newest conf-change entry (or of the base snapshot). */
  lastIndex(): number {
    return this.points[this.points.length - 1]!.index;
  }

  /** Membership in force at `index` (at or after the base). */
  at(index: number): ConfState {
    let found = this.points[0]!;
    for (const p of this.points) if (p.index <= index) found = p;
    return found.conf;
  }

  /** Index of the newest conf entry that made `node` a learner; the base index if none is known. */
  learnerSince(node: NodeId): number {
    for (let i = this.points.length - 1; i > 0; i--) {
      const p = this.points[i]!;
      const prev = this.points[i - 1]!.conf;
      if (p.conf.learners.includes(node) && !prev.learners.includes(node)) return p.index;
    }
    return this.points[0]!.index;
  }

  /** Whether any configuration this history holds (the base or a later one) includes `node`. */
  everIncluded(node: NodeId): boolean {
    return this.points.some((p) => p.conf.voters.includes(node) || p.conf.learners.includes(node));
  }

  /** Replaces everything with a snapshot's membership. */
  reset(index: number, conf: ConfState): void {
    this.points = [{ index, conf }];
  }

  /**
   * The log was (re)written from index `from` on with `ents`: forget configurations recorded at
   * `from` or later, then record those in `ents`. Returns whether the current membership changed.
   */
  onAppend(from: number, ents: readonly Entry[]): boolean {
    const before = this.current();
    const base = this.points[0]!;
    if (from <= base.index) throw new InvariantError(`log rewritten at ${from}, at or below the membership base ${base.index}`);
    this.points = this.points.filter((p) => p.index < from);
    for (const e of ents) {
      if (e.type !== 'conf-change' || e.index < from) continue;
      const change = decodeConfChange(e.data);
      if (change === null) throw new InvariantError(`entry ${e.index} holds an undecodable conf change`);
      const res = applyConfChange(this.current(), change);
      // The leader checked the change against the configuration just before it in its log, which
      // is the one we hold here; failing means the logs diverged from the leader's.
      if (!res.ok) throw new InvariantError(`entry ${e.index}: invalid conf change: ${res.reason}`);
      this.points.push({ index: e.index, conf: res.conf });
    }
    return this.current() !== before;
  }
}
