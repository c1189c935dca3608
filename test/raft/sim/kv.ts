/**
 * The replicated state machine of the simulation: a tiny KV store with put, get and
 * compare-and-set. Operations travel as JSON in entry data, tagged with a unique op id.
 */
export type KvInput =
  | { readonly kind: 'put'; readonly key: string; readonly value: string }
  | { readonly kind: 'get'; readonly key: string }
  | { readonly kind: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string };

/** put -> 'ok'; get -> the value or null; cas -> whether it swapped. */
export type KvOutput = string | null | boolean;

export interface KvCommand {
  readonly id: number;
  readonly input: KvInput;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodeCommand(c: KvCommand): Uint8Array {
  return enc.encode(JSON.stringify(c));
}

export function decodeCommand(data: Uint8Array): KvCommand {
  return JSON.parse(dec.decode(data)) as KvCommand;
}

/** Applies `input` to `state` (a key's value), returning the output and the next value. */
export function stepKey(value: string | null, input: KvInput): { output: KvOutput; value: string | null } {
  switch (input.kind) {
    case 'put':
      return { output: 'ok', value: input.value };
    case 'get':
      return { output: value, value };
    case 'cas':
      return value === input.expected ? { output: true, value: input.value } : { output: false, value };
  }
}

export class KvStore {
  private data = new Map<string, string>();

  apply(input: KvInput): KvOutput {
    const { output, value } = stepKey(this.data.get(input.key) ?? null, input);
    if (value === null) this.data.delete(input.key);
    else this.data.set(input.key, value);
    return output;
  }

  get(key: string): string | null {
    return this.data.get(key) ?? null;
  }

  serialize(): Uint8Array {
    return enc.encode(JSON.stringify([...this.data].sort()));
  }

  static restore(data: Uint8Array): KvStore {
    const kv = new KvStore();
    if (data.length > 0) for (const [k, v] of JSON.parse(dec.decode(data)) as [string, string][]) kv.data.set(k, v);
    return kv;
  }
}
