/**
 * Compare-and-set transactions with etcd's semantics: every compare is evaluated against the state
 * before the transaction; then the success or the failure branch runs, op by op, as one write batch
 * (one revision), each op seeing the effects of the ones before it (unlike etcd we allow writing
 * one key twice in a transaction: it gets two events and its version rises by two). A put naming a lease that does not exist fails the whole transaction before any
 * op runs (etcd's ErrLeaseNotFound), so no partial transaction is ever applied.
 */
import type { Compare, KeyValue, KvErrorResult, KvEvent, OpResponse, TxnOp, TxnRequest, TxnResult } from './types.js';
import type { KvStore, WriteBatch } from './store.js';

/** Whether one compare holds against the current state. */
export function compareHolds(store: KvStore, c: Compare): boolean {
  const kv = store.keys.get(c.key);
  let equal: boolean;
  switch (c.target) {
    case 'value':
      // etcd: a value compare against a missing key is false for every operator.
      if (!kv) return false;
      equal = kv.value === c.value;
      break;
    case 'exists':
      equal = (kv !== undefined) === c.value;
      break;
    default:
      equal = numericTarget(kv, c.target) === c.value;
  }
  return c.op === '==' ? equal : !equal;
}

function numericTarget(kv: KeyValue | undefined, target: 'create' | 'mod' | 'version' | 'lease'): number {
  if (!kv) return 0;
  switch (target) {
    case 'create': return kv.createRevision;
    case 'mod': return kv.modRevision;
    case 'version': return kv.version;
    case 'lease': return kv.lease;
  }
}

/** The first put in `ops` whose lease does not exist, if any. */
function missingLease(store: KvStore, ops: readonly TxnOp[]): { key: string; lease: number } | null {
  for (const op of ops) {
    if (op.kind === 'put' && op.lease !== undefined && op.lease !== 0 && !store.leases.has(op.lease)) {
      return { key: op.key, lease: op.lease };
    }
  }
  return null;
}

function runOp(store: KvStore, batch: WriteBatch, op: TxnOp): OpResponse {
  switch (op.kind) {
    case 'put':
      return { kind: 'put', prev: batch.put(op.key, op.value, op.lease ?? 0) };
    case 'delete':
      return { kind: 'delete', deleted: batch.delete(op.key) ? 1 : 0 };
    case 'deletePrefix':
      return { kind: 'delete', deleted: batch.deleteAll(store.keysWithPrefix(op.prefix)) };
    case 'range':
      return { kind: 'range', kvs: store.range(op) };
  }
}

export interface TxnOutcome {
  readonly result: TxnResult | KvErrorResult;
  readonly events: readonly KvEvent[];
}

/** Evaluates and executes one transaction against `store`, changing it in place. */
export function runTxn(store: KvStore, request: TxnRequest): TxnOutcome {
  const succeeded = request.compare.every((c) => compareHolds(store, c));
  const ops = succeeded ? request.success : request.failure;
  const missing = missingLease(store, ops);
  if (missing) {
    return {
      result: {
        kind: 'error',
        code: 'lease-not-found',
        message: `put "${missing.key}": lease ${missing.lease} not found (expired or revoked)`,
        revision: store.revision,
      },
      events: [],
    };
  }
  const batch = store.beginWrite();
  const responses = ops.map((op) => runOp(store, batch, op));
  const events = batch.end();
  return { result: { kind: 'txn', succeeded, revision: store.revision, responses }, events };
}

/** Whether `request` only reads (both branches hold nothing but range ops): it needs no log entry. */
export function isReadOnlyTxn(request: TxnRequest): boolean {
  return request.success.every((op) => op.kind === 'range') && request.failure.every((op) => op.kind === 'range');
}

/**
 * Evaluates a read-only transaction (`isReadOnlyTxn`) against `store` without changing it: the same
 * answer `runTxn` would give, since a batch with no writes changes neither keys nor revision.
 */
export function evaluateReadOnlyTxn(store: KvStore, request: TxnRequest): TxnResult {
  const succeeded = request.compare.every((c) => compareHolds(store, c));
  const responses = (succeeded ? request.success : request.failure).map((op): OpResponse => {
    if (op.kind !== 'range') throw new TypeError(`read-only transaction holds a ${op.kind} op`);
    return { kind: 'range', kvs: store.range(op) };
  });
  return { kind: 'txn', succeeded, revision: store.revision, responses };
}
