/**
 * The chaos suite's randomness: one seed per run (CHAOS_SEED to replay, otherwise random and
 * printed), and from it one independent generator per (scenario, round), so replaying a single
 * scenario with CHAOS_ONLY makes the same choices it made inside the full run.
 */
import { Prng } from '../raft/sim/prng.js';

/** The simulation's mulberry32 generator (test/raft/sim/prng.ts) plus an inclusive integer range. */
export class ChaosRng extends Prng {
  /** An integer in [lo, hi] (both ends included). */
  intBetween(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
}

/** FNV-1a of a string: mixes the scenario name and round into the run's seed. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/**
 * The run's seed: CHAOS_SEED when set (an unsigned 32-bit integer, else an error naming the value),
 * otherwise a fresh random one. Callers print it so any run can be replayed.
 */
export function runSeed(env: NodeJS.ProcessEnv = process.env): number {
  const text = env.CHAOS_SEED;
  if (text === undefined || text === '') return Math.floor(Math.random() * 2 ** 32) >>> 0;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** 32) {
    throw new Error(`CHAOS_SEED: expected an unsigned 32-bit integer, got ${JSON.stringify(text)}`);
  }
  return n;
}

/** The generator for one scenario run, derived from the run seed, the scenario name and the round. */
export function scenarioRng(seed: number, scenario: string, round: number): ChaosRng {
  return new ChaosRng((seed ^ hash(`${scenario}#${round}`)) >>> 0);
}
