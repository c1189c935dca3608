import type {
  CasResult, ClusterStatus, ClusterView, DynamicConfigJson, Expect, FailoverRequest, HistoryLine,
  MemberData, SyncState,
} from './types.js';

/**
 * The DCS contract. Every adapter (etcd3, Consul, built-in Raft, in-memory) implements it and passes
 * the one shared suite in test/dcs/contract.ts.
 *
 * Errors: every operation that cannot reach a quorum of the DCS within `retryTimeoutMs` rejects with
 * DcsUnavailableError (never hangs past that deadline). Losing a race is a value (false / CasResult),
 * never an exception.
 *
 * Leases: the adapter owns one lease (etcd) / session (Consul) per member, of `ttlSeconds`. The leader
 * key and this member's record are bound to it, so both vanish when the agent stops renewing it.
 */
export interface GetClusterOptions {
  readonly renewLease?: boolean;
  readonly unhurried?: boolean;
}

export interface Dcs {
  readonly name: string;
  readonly member: string;

  // --- Must finish within retry_timeout: the HA loop's safety depends on them. ---

  /**
   * Read the whole cluster (one consistent snapshot of the prefix). `renewLease`: the HA loop's own
   * read, which may renew this member's lease in the same round trip (the Raft adapter does); no
   * other caller (REST, ctl) may ask for it, so that only a running HA loop keeps its keys alive.
   * `unhurried`: the caller can wait a little longer (an idle cycle); the Raft adapter then lets
   * the leader confirm the read with its next heartbeat instead of a round of its own.
   */
  getCluster(opts?: GetClusterOptions): Promise<ClusterView>;

  /**
   * Create the leader key with this member's name, bound to the lease, only if it does not exist.
   * Resolves true when this member now holds it, false when someone else does.
   */
  attemptToAcquireLeader(): Promise<boolean>;

  /**
   * Renew the lease and confirm the leader key still holds this member's name (re-binding it to
   * the current lease if needed). Resolves false when the key belongs to someone else or is gone:
   * the caller has lost leadership. Never re-creates a key another member took meanwhile.
   */
  updateLeader(): Promise<boolean>;

  /** Delete the leader key only if it holds this member's name. Resolves false if it did not. */
  deleteLeader(): Promise<boolean>;

  /** Publish this member's record, bound to the lease. */
  touchMember(data: MemberData): Promise<void>;

  /**
   * The monotonic time (performance.now() milliseconds, this process) at which the request that
   * last confirmed the lease alive was *sent*, or null if never. The lease is guaranteed to live
   * until at least that instant + ttl on the server, so a holder that has not renewed since must
   * consider itself gone at confirmedAt + ttl (minus a safety margin for clock rate drift).
   */
  leaseConfirmedAt(): number | null;

  // --- Compare-and-set writes. ---

  /** `initialize`: create-only when createNew, else overwrite (used to store the real sysid). */
  initialize(sysid: string, createNew: boolean): Promise<CasResult>;
  cancelInitialization(): Promise<void>;
  setConfig(value: DynamicConfigJson, expect: Expect): Promise<CasResult>;
  setFailover(value: FailoverRequest, expect: Expect): Promise<CasResult>;
  setSync(value: SyncState, expect: Expect): Promise<CasResult>;
  deleteSync(expect: Expect): Promise<CasResult>;
  setHistory(value: readonly HistoryLine[], expect: Expect): Promise<CasResult>;

  // --- Best effort (failure only warns). ---

  setStatus(value: ClusterStatus): Promise<void>;
  setFailsafe(value: Readonly<Record<string, string>> | null): Promise<void>;
  /** Remove everything under the cluster prefix (`ctl remove`). */
  deleteCluster(): Promise<void>;

  /**
   * Wait until anything under the cluster prefix changes after `sinceRevision`, or `timeoutMs`
   * passes. Resolves true on a change, false on timeout. Never rejects: a broken connection
   * resolves (true) early so the caller re-reads and sees the error there.
   */
  watch(sinceRevision: string, timeoutMs: number): Promise<boolean>;

  /** Release local resources. `revoke` also deletes the lease (and so our keys) on the server. */
  close(opts?: { revoke?: boolean }): Promise<void>;
}

/** Settings every adapter takes. */
export interface DcsOptions {
  readonly namespace: string;
  readonly scope: string;
  readonly member: string;
  readonly ttlSeconds: number;
  readonly retryTimeoutMs: number;
}
