/**
 * mulberry32: a tiny seeded PRNG. Good enough to explore schedules; not for cryptography.
 * Every random choice of a simulation run comes from one of these, so a seed replays a run.
 */
import type { Rng } from '../../../src/raft/core/types.js';

export class Prng implements Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  intBelow(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.intBelow(items.length)]!;
  }

  /** A derived generator, so that adding draws in one place does not shift another's sequence. */
  fork(): Prng {
    return new Prng(Math.floor(this.next() * 4294967296));
  }
}
