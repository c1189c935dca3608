/**
 * The KV snapshot format: canonical UTF-8 JSON (keys and leases sorted), so two machines in the
 * same state produce byte-identical snapshots; tests rely on that to compare states.
 *
 * `{"v":1,"applied":I,"revision":R,"leaseFloor":F,"keys":[[key,value,create,mod,version,lease]...],
 *   "leases":[[id,ttlMs,deadlineMs,renewedIndex]...]}`
 *
 * The watch history is not included: a restored machine answers `compacted` to anyone watching
 * from before the snapshot's revision.
 */
import * as z from 'zod';
import { compareKeys, KvStore } from './store.js';

/** A snapshot that cannot be restored: corrupt bytes or a broken internal invariant. */
export class KvSnapshotError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** Everything besides the store that a snapshot carries. */
export interface SnapshotMeta {
  /** The last log index applied into this state. */
  readonly appliedIndex: number;
  /** Every lease id ever allocated is at or below this (so ids are never reused). */
  readonly leaseFloor: number;
}

const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const snapshotSchema = z.object({
  v: z.literal(1),
  applied: count,
  revision: count,
  leaseFloor: count,
  keys: z.array(z.tuple([z.string().min(1), z.string(), count, count, count, count])),
  leases: z.array(z.tuple([count, count, z.number(), count])),
}).strict();

export function encodeSnapshot(store: KvStore, meta: SnapshotMeta): Uint8Array {
  const keys = [...store.keys.values()]
    .sort((a, b) => compareKeys(a.key, b.key))
    .map((kv) => [kv.key, kv.value, kv.createRevision, kv.modRevision, kv.version, kv.lease]);
  const leases = [...store.leases.values()]
    .sort((a, b) => a.id - b.id)
    .map((l) => [l.id, l.ttlMs, l.deadlineMs, l.renewedIndex]);
  const body = { v: 1, applied: meta.appliedIndex, revision: store.revision, leaseFloor: meta.leaseFloor, keys, leases };
  return new TextEncoder().encode(JSON.stringify(body));
}

/** Rebuilds a store from snapshot bytes. Throws KvSnapshotError on anything malformed. */
export function decodeSnapshot(bytes: Uint8Array): { store: KvStore; meta: SnapshotMeta } {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    throw new KvSnapshotError(`KV snapshot is not UTF-8 JSON (${(err as Error).message})`);
  }
  const parsed = snapshotSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new KvSnapshotError(`malformed KV snapshot at ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? 'invalid'}`);
  }
  const s = parsed.data;
  const store = new KvStore();
  store.revision = s.revision;
  for (const [id, ttlMs, deadlineMs, renewedIndex] of s.leases) {
    store.leases.set(id, { id, ttlMs, deadlineMs, renewedIndex, keys: new Set() });
  }
  for (const [key, value, createRevision, modRevision, version, lease] of s.keys) {
    if (modRevision > s.revision || createRevision > modRevision) {
      throw new KvSnapshotError(`KV snapshot key "${key}": revisions create ${createRevision} / mod ${modRevision} exceed store revision ${s.revision}`);
    }
    if (lease !== 0) {
      const record = store.leases.get(lease);
      if (!record) throw new KvSnapshotError(`KV snapshot key "${key}" is bound to lease ${lease}, which the snapshot does not hold`);
      record.keys.add(key);
    }
    store.keys.set(key, { key, value, createRevision, modRevision, version, lease });
  }
  return { store, meta: { appliedIndex: s.applied, leaseFloor: s.leaseFloor } };
}
