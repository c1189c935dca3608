/**
 * The recent decisions of this node, for operators (REST and ctl): a bounded ring that records a
 * decision only when its reason or its action kinds differ from the previous entry; a repeat of
 * the same decision bumps that entry's count and last-seen time instead. So a node stuck in one
 * state for hours keeps a single entry, and the log shows every change of mind.
 *
 * Pure: the caller passes the wall-clock time of each decision; nothing here reads a clock.
 */
import type { ActionKind, Decision } from './types.js';

export interface DecisionLogEntry {
  /** ISO 8601 wall time of the first decision of this run. */
  readonly at: string;
  /** ISO 8601 wall time of the latest repeat (equals `at` when count is 1). */
  readonly lastAt: string;
  readonly reason: string;
  readonly actions: readonly ActionKind[];
  /** How many consecutive cycles decided exactly this. */
  readonly count: number;
}

function sameKinds(a: readonly ActionKind[], b: readonly ActionKind[]): boolean {
  return a.length === b.length && a.every((k, i) => k === b[i]);
}

export class DecisionLog {
  private readonly ring: DecisionLogEntry[] = [];

  /** @param capacity maximum number of entries kept; the oldest is dropped first. */
  constructor(readonly capacity = 100) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`DecisionLog capacity must be a positive integer, got ${String(capacity)}`);
    }
  }

  /**
   * Records `decision` made at `wallMs` (milliseconds since the epoch).
   * @returns true when a new entry was added (the decision changed), false for a repeat.
   */
  record(decision: Decision, wallMs: number): boolean {
    const at = new Date(wallMs).toISOString();
    const kinds = decision.actions.map((a) => a.kind);
    const last = this.ring[this.ring.length - 1];
    if (last && last.reason === decision.reason && sameKinds(last.actions, kinds)) {
      this.ring[this.ring.length - 1] = { ...last, lastAt: at, count: last.count + 1 };
      return false;
    }
    this.ring.push({ at, lastAt: at, reason: decision.reason, actions: kinds, count: 1 });
    if (this.ring.length > this.capacity) this.ring.shift();
    return true;
  }

  /** Entries oldest first, newest last (a copy: callers may keep it). */
  entries(): readonly DecisionLogEntry[] {
    return [...this.ring];
  }

  /** The latest entry, or null before the first decision. */
  latest(): DecisionLogEntry | null {
    return this.ring[this.ring.length - 1] ?? null;
  }
}
