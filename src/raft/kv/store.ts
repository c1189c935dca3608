/**
 * The KV state proper: keys, leases and the global revision, with one write path (`WriteBatch`)
 * that stamps every change of a transaction with the same new revision and records its events.
 *
 * Invariants: a key's `lease` is 0 or the id of a lease in `leases` whose `keys` contains it;
 * `revision` only grows, by exactly one per batch that changed something (etcd's rule: a
 * transaction that writes nothing leaves the revision alone).
 * Determinism: anything that iterates a Map or Set and whose order is observable sorts first, so a
 * machine restored from a snapshot (whose insertion order differs) behaves identically.
 */
import type { KeyValue, KvEvent } from './types.js';

export interface LeaseRecord {
  readonly id: number;
  readonly ttlMs: number;
  /** On the proposing leader's clock; informational (expiry is the LeaseClock's business). */
  deadlineMs: number;
  /** Log index of the last grant or keep-alive (the guard of expiry revokes). */
  renewedIndex: number;
  readonly keys: Set<string>;
}

export type RangeTarget = { readonly key: string } | { readonly prefix: string };

export class KvStore {
  revision = 0;
  readonly keys = new Map<string, KeyValue>();
  readonly leases = new Map<number, LeaseRecord>();

  /** Keys matching one key or a prefix, sorted by key. O(number of keys) for a prefix. */
  range(target: RangeTarget): KeyValue[] {
    if ('key' in target) {
      const kv = this.keys.get(target.key);
      return kv ? [kv] : [];
    }
    return this.keysWithPrefix(target.prefix).map((k) => this.keys.get(k) as KeyValue);
  }

  keysWithPrefix(prefix: string): string[] {
    const out: string[] = [];
    for (const k of this.keys.keys()) if (k.startsWith(prefix)) out.push(k);
    return out.sort(compareKeys);
  }

  beginWrite(): WriteBatch {
    return new WriteBatch(this);
  }
}

/** Code-unit order, the same on every replica (no locale). */
export function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The changes of one transaction. Ops see the effects of earlier ops in the same batch (the store
 * is changed in place); callers validate everything that could fail *before* the first write, so a
 * batch never needs rolling back.
 */
export class WriteBatch {
  /** The revision this batch's writes carry. */
  readonly revision: number;
  private readonly events: KvEvent[] = [];

  constructor(private readonly store: KvStore) {
    this.revision = store.revision + 1;
  }

  /** Writes `key`; `lease` 0 unbinds it. The lease must exist (checked by the caller). */
  put(key: string, value: string, lease: number): KeyValue | null {
    const prev = this.store.keys.get(key) ?? null;
    const kv: KeyValue = {
      key,
      value,
      createRevision: prev ? prev.createRevision : this.revision,
      modRevision: this.revision,
      version: prev ? prev.version + 1 : 1,
      lease,
    };
    if (prev && prev.lease !== 0) this.store.leases.get(prev.lease)?.keys.delete(key);
    if (lease !== 0) {
      const record = this.store.leases.get(lease);
      if (!record) throw new Error(`put "${key}": lease ${lease} vanished between validation and write`);
      record.keys.add(key);
    }
    this.store.keys.set(key, kv);
    this.events.push({ kind: 'put', key, revision: this.revision, kv, prev });
    return prev;
  }

  /** Deletes `key` if present; returns whether it was. */
  delete(key: string): boolean {
    const prev = this.store.keys.get(key);
    if (!prev) return false;
    if (prev.lease !== 0) this.store.leases.get(prev.lease)?.keys.delete(key);
    this.store.keys.delete(key);
    this.events.push({ kind: 'delete', key, revision: this.revision, prev });
    return true;
  }

  /** Deletes keys in sorted order (so events come out in the same order on every replica). */
  deleteAll(keys: readonly string[]): number {
    let deleted = 0;
    for (const key of [...keys].sort(compareKeys)) if (this.delete(key)) deleted += 1;
    return deleted;
  }

  /** Closes the batch: the store takes the new revision only if something changed. */
  end(): readonly KvEvent[] {
    if (this.events.length > 0) this.store.revision = this.revision;
    return this.events;
  }
}
