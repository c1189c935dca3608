/** The sequential specification of the simulation's KV store, one register per key. */
import { stepKey, type KvInput, type KvOutput } from './kv.js';
import type { Model, Operation } from './linearizability.js';

export type KvOperation = Operation<KvInput, KvOutput>;

export const kvModel: Model<string | null, KvInput, KvOutput> = {
  init: () => null,
  step(state, input, output) {
    const r = stepKey(state, input);
    return { ok: output === undefined || output === r.output, state: r.value };
  },
  key: (state) => (state === null ? '\u0000' : `=${state}`),
  partition(ops) {
    const byKey = new Map<string, KvOperation[]>();
    for (const op of ops) {
      const list = byKey.get(op.input.key) ?? [];
      list.push(op);
      byKey.set(op.input.key, list);
    }
    return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
  },
};
