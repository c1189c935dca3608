/**
 * A linearizability checker in the style of Wing & Gong's search with Lowe's memoisation, as
 * Porcupine does it: walk a doubly-linked list of call/return events, tentatively linearize an
 * operation whose call is reached (apply it to the sequential model), backtrack when a return is
 * reached whose operation was not linearized yet, and never revisit a (linearized set, model
 * state) pair. Histories are split per partition (per key for a KV store) first.
 *
 * Operations whose outcome is unknown (client timed out) have `ret = Infinity` and
 * `output = undefined`; the model must then accept any output, so they may take effect at any
 * point after their call, or never (linearized last).
 */
export interface Operation<I, O> {
  readonly client: number;
  readonly input: I;
  /** undefined: outcome unknown. */
  readonly output: O | undefined;
  readonly call: number;
  readonly ret: number;
}

export interface Model<S, I, O> {
  init(): S;
  /** Applies `input`; ok is false when `output` (if known) is not what the model produces. */
  step(state: S, input: I, output: O | undefined): { ok: boolean; state: S };
  /** A canonical string for a state (memoisation key). */
  key(state: S): string;
  /** Splits a history into independently checkable parts (e.g. by key). */
  partition?(ops: readonly Operation<I, O>[]): Operation<I, O>[][];
}

export interface CheckResult {
  readonly ok: boolean;
  /** Index (in partition order) of the first non-linearizable partition. */
  readonly failedPartition: number | null;
  /** The search gave up after `maxSteps` (ok is then false, but the verdict is unknown). */
  readonly exhausted: boolean;
  readonly partitions: number;
}

/** `maxSteps` bounds the search per partition (the worst case is exponential). */
export function checkLinearizable<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[], maxSteps = 2_000_000): CheckResult {
  const parts = model.partition ? model.partition(ops) : [ops.slice()];
  for (let p = 0; p < parts.length; p++) {
    const verdict = checkPartition(model, parts[p]!, maxSteps);
    if (verdict !== 'ok') return { ok: false, failedPartition: p, partitions: parts.length, exhausted: verdict === 'exhausted' };
  }
  return { ok: true, failedPartition: null, partitions: parts.length, exhausted: false };
}

function checkPartition<S, I, O>(model: Model<S, I, O>, ops: readonly Operation<I, O>[], maxSteps: number): 'ok' | 'illegal' | 'exhausted' {
  const n = ops.length;
  if (n === 0) return 'ok';
  // Entries 0..2n-1: call of op i is 2i, its return 2i+1. Sorted by time; at equal times calls
  // come first, so operations that touch are treated as concurrent (closed intervals).
  const order = Array.from({ length: 2 * n }, (_, e) => e);
  const time = (e: number) => (e % 2 === 0 ? ops[e >> 1]!.call : ops[e >> 1]!.ret);
  order.sort((a, b) => time(a) - time(b) || (a % 2) - (b % 2) || a - b);
  const HEAD = 2 * n;
  const next = new Int32Array(2 * n + 1).fill(-1);
  const prev = new Int32Array(2 * n + 1).fill(-1);
  let last = HEAD;
  for (const e of order) {
    next[last] = e;
    prev[e] = last;
    last = e;
  }
  const unlink = (e: number) => {
    next[prev[e]!] = next[e]!;
    if (next[e] !== -1) prev[next[e]!] = prev[e]!;
  };
  const relink = (e: number) => {
    next[prev[e]!] = e;
    if (next[e] !== -1) prev[next[e]!] = e;
  };
  const bits = new Uint32Array(Math.ceil(n / 32));
  const flip = (op: number) => {
    bits[op >> 5] = (bits[op >> 5] ?? 0) ^ (1 << (op & 31));
  };
  const seen = new Set<string>();
  const stack: Array<{ entry: number; state: S }> = [];
  let state = model.init();
  let entry = next[HEAD]!;
  let steps = 0;
  while (next[HEAD] !== -1) {
    if (++steps > maxSteps) return 'exhausted';
    if (entry % 2 === 0) {
      const op = ops[entry >> 1]!;
      const res = model.step(state, op.input, op.output);
      if (res.ok) {
        flip(entry >> 1);
        const key = `${bits.join(',')}|${model.key(res.state)}`;
        if (!seen.has(key)) {
          seen.add(key);
          stack.push({ entry, state });
          state = res.state;
          unlink(entry); // lift the call and its return out of the list
          unlink(entry + 1);
          entry = next[HEAD]!;
          continue;
        }
        flip(entry >> 1);
      }
      entry = next[entry]!;
    } else {
      // Reached a return whose operation is not linearized: backtrack.
      const top = stack.pop();
      if (top === undefined) return 'illegal';
      flip(top.entry >> 1);
      state = top.state;
      relink(top.entry + 1);
      relink(top.entry);
      entry = next[top.entry]!;
    }
  }
  return 'ok';
}
