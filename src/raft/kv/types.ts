/**
 * Types of the replicated KV state machine that backs the built-in Raft DCS: the commands a
 * proposer puts in the Raft log, the results applying them yields, watch events, and the client
 * surface (`KvClientOps`) the DCS adapter (src/dcs/raft.ts) programs against.
 *
 * Semantics follow etcd v3 where they overlap: one global revision, bumped once per write
 * transaction that changed something; per key create/mod revisions, a version and a lease.
 * A key that does not exist compares as create = mod = version = lease = 0.
 */

/** One stored key, as reads and watch events return it. */
export interface KeyValue {
  readonly key: string;
  readonly value: string;
  /** Revision of the write that created the key (since its last deletion). */
  readonly createRevision: number;
  /** Revision of the last write to the key: the DCS's `version` / fencing token. */
  readonly modRevision: number;
  /** Number of writes since creation: 1 after the creating put. */
  readonly version: number;
  /** The lease the key is bound to; 0 for none. */
  readonly lease: number;
}

export type CompareOp = '==' | '!=';

/**
 * A guard of a transaction. Numeric targets of an absent key are 0, so `create == 0` means
 * "absent" (etcd's idiom); a `value` compare on an absent key is false whatever the op, as in etcd.
 * `exists` is our shorthand for `create != 0`.
 */
export type Compare =
  | { readonly key: string; readonly target: 'create' | 'mod' | 'version' | 'lease'; readonly op: CompareOp; readonly value: number }
  | { readonly key: string; readonly target: 'value'; readonly op: CompareOp; readonly value: string }
  | { readonly key: string; readonly target: 'exists'; readonly op: CompareOp; readonly value: boolean };

/** `lease` 0 or absent: the key is bound to no lease (a put always replaces the key's lease). */
export interface PutOp { readonly kind: 'put'; readonly key: string; readonly value: string; readonly lease?: number }
export interface DeleteOp { readonly kind: 'delete'; readonly key: string }
export interface DeletePrefixOp { readonly kind: 'deletePrefix'; readonly prefix: string }
export type RangeOp = { readonly kind: 'range'; readonly key: string } | { readonly kind: 'range'; readonly prefix: string };
export type TxnOp = PutOp | DeleteOp | DeletePrefixOp | RangeOp;

export interface TxnRequest {
  readonly compare: readonly Compare[];
  readonly success: readonly TxnOp[];
  readonly failure: readonly TxnOp[];
}

/** What a proposer puts in the log (wrapped with its clock by commands.ts). */
export type KvCommand =
  | ({ readonly kind: 'txn' } & TxnRequest)
  /** `id` absent: the state machine allocates one from the log index (deterministically). */
  | { readonly kind: 'leaseGrant'; readonly id?: number; readonly ttlMs: number }
  | { readonly kind: 'leaseKeepAlive'; readonly id: number }
  /**
   * `ifRenewedIndex` (the LeaseClock's expiry revokes set it): revoke only if the lease's last grant
   * or keep-alive was applied at that log index. A keep-alive that got into the log between the
   * leader deciding "expired" and the revoke being applied then wins, so a client is never told
   * its lease was renewed and then loses its keys to an older decision (etcd makes such a renew
   * wait for the revoke instead). Absent: unconditional (a client's own revoke).
   */
  | { readonly kind: 'leaseRevoke'; readonly id: number; readonly ifRenewedIndex?: number };

/** One response per executed op, in op order. Range results are sorted by key. */
export type OpResponse =
  | { readonly kind: 'put'; readonly prev: KeyValue | null }
  | { readonly kind: 'delete'; readonly deleted: number }
  | { readonly kind: 'range'; readonly kvs: readonly KeyValue[] };

/** `revision`: the store's revision after the apply (unchanged when nothing was written). */
export interface TxnResult {
  readonly kind: 'txn';
  readonly succeeded: boolean;
  readonly revision: number;
  readonly responses: readonly OpResponse[];
}
/** `renewedIndex`: the log index of this grant or keep-alive (the lease's last renewal). */
export interface LeaseGrantResult {
  readonly kind: 'leaseGrant'; readonly id: number; readonly ttlMs: number; readonly renewedIndex: number; readonly revision: number;
}
/** `found` false: the lease had expired or was revoked; `ttlMs` is then 0 (etcd answers TTL 0). */
export interface LeaseKeepAliveResult {
  readonly kind: 'leaseKeepAlive'; readonly id: number; readonly found: boolean; readonly ttlMs: number;
  /** 0 when not found. */
  readonly renewedIndex: number;
  readonly revision: number;
}
/**
 * Revoking an unknown lease is not an error (a retried revoke must be harmless): found is false.
 * `revoked` false with found true: the `ifRenewedIndex` guard failed (the lease was renewed since).
 */
export interface LeaseRevokeResult {
  readonly kind: 'leaseRevoke'; readonly id: number; readonly found: boolean; readonly revoked: boolean;
  readonly deleted: number; readonly revision: number;
}
/**
 * A command that changed nothing because it could not be carried out. Every replica reaches the
 * same error for the same entry, so it is a value, not an exception.
 */
export interface KvErrorResult {
  readonly kind: 'error';
  readonly code: 'bad-command' | 'lease-not-found' | 'lease-exists';
  readonly message: string;
  readonly revision: number;
}
/** A replayed index (at or below the last applied one) or an empty no-op entry: nothing was done. */
export interface SkippedResult { readonly kind: 'skipped'; readonly index: number; readonly revision: number }

export type KvResult = TxnResult | LeaseGrantResult | LeaseKeepAliveResult | LeaseRevokeResult | KvErrorResult | SkippedResult;

/** A change, as watchers see it. All events of one transaction share its revision. */
export type KvEvent =
  | { readonly kind: 'put'; readonly key: string; readonly revision: number; readonly kv: KeyValue; readonly prev: KeyValue | null }
  | { readonly kind: 'delete'; readonly key: string; readonly revision: number; readonly prev: KeyValue };

/**
 * `events`: every change after the requested revision under the prefix (possibly none), and the
 * store's current revision. `compacted`: the history no longer reaches back that far; the watcher
 * must re-read the state and watch from `revision` (etcd's ErrCompacted, then a fresh get).
 * `compactRevision` is the oldest revision one may watch *after*.
 */
export type WatchResult =
  | { readonly kind: 'events'; readonly events: readonly KvEvent[]; readonly revision: number }
  | { readonly kind: 'compacted'; readonly compactRevision: number; readonly revision: number };

/** What one apply changed; passed to listeners. */
export interface AppliedChange {
  readonly index: number;
  readonly revision: number;
  readonly events: readonly KvEvent[];
}

/** A lease as the state machine holds it. `deadlineMs` is on the proposing leader's clock. */
export interface LeaseInfo {
  readonly id: number;
  readonly ttlMs: number;
  readonly deadlineMs: number;
  /** Log index of the last grant or keep-alive applied to it. */
  readonly renewedIndex: number;
  /** Keys bound to the lease, sorted. */
  readonly keys: readonly string[];
}

/**
 * Result of a read: the matching keys, sorted, and the revision they were read at; with
 * `keepalive` when the read was asked to renew a lease too (RangeOptions).
 */
export interface RangeReply { readonly kvs: readonly KeyValue[]; readonly revision: number; readonly keepalive?: LeaseKeepAliveResult }

export interface RangeOptions {
  /**
   * Renew this lease with the same leader confirmation the read needs: one round trip instead of
   * two for the HA loop, which reads the cluster and renews its lease every cycle. A leader that
   * predates this option ignores it and the reply has no `keepalive`: renew separately then.
   */
  readonly keepalive?: number;
  /**
   * The caller can wait up to a heartbeat interval: the leader confirms the read with its next
   * periodic heartbeat instead of a heartbeat round of its own (an idle HA loop's reads).
   */
  readonly lazy?: boolean;
}

/**
 * What the Raft DCS adapter calls on the local Raft node. The node proposes writes through the
 * Raft leader (a follower forwards), records the leader's monotonic clock in the entry, and resolves
 * once this node has applied it, with that apply's result.
 *
 * Every method rejects (never hangs) when no leader or quorum answers within the node's request
 * deadline; the adapter maps that onto DcsUnavailableError. Losing a compare is a resolved value.
 */
export interface KvClientOps {
  /** A compare-and-set transaction. `lease-not-found` when a put names a lease that is gone. */
  txn(request: TxnRequest): Promise<TxnResult | KvErrorResult>;
  /** A linearizable read (read-index): reflects every write acknowledged before the call. */
  range(target: { readonly key: string } | { readonly prefix: string }, opts?: RangeOptions): Promise<RangeReply>;
  /** `ttlMs` must pass `validateLeaseTtl` for the cluster's election timeout (config-time check). */
  leaseGrant(ttlMs: number): Promise<LeaseGrantResult | KvErrorResult>;
  leaseKeepAlive(id: number): Promise<LeaseKeepAliveResult>;
  /** Revokes the lease and deletes its keys. */
  leaseRevoke(id: number): Promise<LeaseRevokeResult>;
  /**
   * Resolves with the changes under `prefix` after `afterRevision` as soon as there is at least
   * one, or with no events after `timeoutMs`, or `compacted` when the history is too short.
   */
  watch(afterRevision: number, prefix: string, timeoutMs: number): Promise<WatchResult>;
}
