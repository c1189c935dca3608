/**
 * What the REST API needs from the agent. The API never drives PostgreSQL itself (DESIGN.md): it reads
 * the state the HA loop publishes, reads the DCS, and turns admin requests into DCS records or
 * requests the loop carries out. The agent (src/ha/agent.ts) implements this; tests use a fake.
 */
import type { ClusterView, FailoverRequest } from '../dcs/types.js';
import type { DecisionLogEntry } from '../ha/decision-log.js';

/** This member's status, in Patroni's /patroni JSON field names (shared/reference/rest-api.md §3.2). */
export interface NodeStatus {
  readonly state: string;
  /** 'master' (Patroni 3.x spelling) | 'replica' | 'standby_leader' | 'uninitialized' | 'demoted' */
  readonly role: string;
  readonly postmaster_start_time?: string;
  readonly server_version?: number;
  readonly xlog?:
    | { readonly location: number }
    | { readonly received_location?: number; readonly replayed_location?: number; readonly replayed_timestamp?: string | null; readonly paused?: boolean };
  readonly timeline?: number;
  readonly replication_state?: string;
  readonly replication?: ReadonlyArray<{ usename?: string; application_name: string; client_addr?: string; state: string; sync_state: string; sync_priority?: number }>;
  readonly sync_standby?: boolean;
  readonly pause?: boolean;
  readonly cluster_unlocked?: boolean;
  readonly failsafe_mode_is_active?: boolean;
  readonly dcs_last_seen?: number;
  readonly tags?: Readonly<Record<string, unknown>>;
  readonly database_system_identifier?: string;
  readonly pending_restart?: boolean;
  readonly patroni: { readonly version: string; readonly scope: string; readonly name: string };
  /** Our additions. */
  readonly leader_key_held?: boolean;
  readonly last_decision?: string;
  /** Where pg_rewind's safety copies of divergent WAL went (transactions an async failover lost). */
  readonly diverged_wal?: ReadonlyArray<{ readonly dir: string; readonly at: string; readonly rewoundFrom: string; readonly rewindSucceeded: boolean }>;
}

/** Facts the health endpoints decide on, computed by the agent at request time (cheap, no I/O). */
export interface HealthFacts {
  /** This node holds the leader key and its lease deadline has not passed. */
  readonly holdsLock: boolean;
  readonly pgRunning: boolean;
  /** PostgreSQL answers as a primary (not in recovery). */
  readonly pgPrimary: boolean;
  readonly role: 'primary' | 'replica' | 'standby_leader' | 'uninitialized' | 'demoted';
  /** Bytes the replica's replay position is behind the cluster's last known leader position; null = unknown. */
  readonly lagBytes: number | null;
  /** Member names in /sync (when synchronous mode is on), else empty. */
  readonly syncStandbys: readonly string[];
  readonly synchronousMode: boolean;
  readonly standbyCluster: boolean;
  readonly tags: Readonly<Record<string, unknown>>;
  readonly paused: boolean;
  /** The last DCS read succeeded within ttl. */
  readonly dcsViewValid: boolean;
  /** For /liveness: monotonic ms of the last completed HA cycle, and ttl in ms. */
  readonly lastCycleAgoMs: number;
  readonly ttlMs: number;
}

export interface SwitchoverRequest extends FailoverRequest {
  /** true (default): the call returns when the switchover finished; false: at once with a job id. */
  readonly wait?: boolean;
}

export interface Job {
  readonly id: string;
  readonly kind: string;
  readonly state: 'queued' | 'running' | 'succeeded' | 'failed';
  readonly message: string;
  readonly created_at: string;
  readonly updated_at: string;
  readonly params?: Readonly<Record<string, unknown>>;
}

/** POST /failsafe body (Patroni's fields): the primary that lost the DCS asks us to confirm it. */
export interface FailsafeRequest {
  readonly name: string;
  readonly api_url: string;
  readonly conn_url?: string;
  /** Permanent slot name -> LSN (bytes), for replicas to advance their copies. */
  readonly slots?: Readonly<Record<string, number>>;
}

export interface RestartRequest {
  readonly restart_pending?: boolean;
  readonly role?: 'master' | 'primary' | 'replica';
  readonly postgres_version?: string;
  readonly timeout?: number;
  readonly schedule?: string;
}

/** A result an admin call reports: HTTP status plus a message or JSON body. */
export interface AdminResult {
  readonly status: number;
  readonly body: string | Readonly<Record<string, unknown>> | readonly unknown[];
}

export interface ApiBackend {
  readonly name: string;
  readonly scope: string;
  status(): NodeStatus;
  /**
   * status() with PostgreSQL probed now (GET /patroni): candidates in a leader race compare WAL
   * positions through it. Optional: status() is used without it.
   */
  liveStatus?(): Promise<NodeStatus>;
  health(): HealthFacts;
  /** Fresh read of the cluster (rejects with DcsUnavailableError). */
  cluster(): Promise<ClusterView>;
  /** The cluster view the loop last saw (may be stale), or null. */
  lastCluster(): ClusterView | null;
  decisions(): readonly DecisionLogEntry[];
  /** The dynamic config as stored in the DCS (null when absent). */
  dynamicConfig(): Promise<{ value: Readonly<Record<string, unknown>>; version: string } | null>;
  /** Validate and CAS-write a new dynamic config; returns problems when invalid. */
  writeDynamicConfig(value: Readonly<Record<string, unknown>>, expectVersion: string | null): Promise<{ ok: true } | { ok: false; status: number; message: string }>;
  switchover(req: SwitchoverRequest, kind: 'switchover' | 'failover'): Promise<AdminResult>;
  cancelScheduledSwitchover(): Promise<AdminResult>;
  restart(req: RestartRequest): Promise<AdminResult>;
  cancelScheduledRestart(): Promise<AdminResult>;
  reload(): Promise<AdminResult>;
  reinitialize(force: boolean): Promise<AdminResult>;
  /**
   * A primary that lost the DCS asks this member to confirm it (failsafe mode). 200 "Accepted" means
   * this member will not race for the lock for ttl seconds; other codes refuse (rest-api.md §3.4).
   */
  failsafe(req: FailsafeRequest): AdminResult;
  job(id: string): Job | null;
  jobs(): readonly Job[];
  /** Wake the HA loop now (config patched, request written). */
  wakeup(): void;
  /** The embedded Raft node's status (GET /raft), when the agent runs the built-in raft DCS. */
  raftStatus?(): unknown | null;
  /**
   * Raft membership jobs (built-in raft DCS only; absent or rejecting otherwise). raftSubmit stores a
   * queued job in the replicated KV and resolves with it at once; the Raft leader carries it out.
   * Ids were validated by the caller ("host:port"). Rejections other than input errors mean 503.
   */
  raftSubmit?(kind: RaftJobKind, params: { readonly target?: string; readonly peer?: string }): Promise<Job>;
  /** Every raft job in the replicated KV, oldest first; null when this agent has no raft DCS. */
  raftJobs?(): Promise<readonly Job[] | null>;
  raftJob?(id: string): Promise<Job | null>;
}

export type RaftJobKind = 'transfer_leader' | 'add_peer' | 'remove_peer';
