/**
 * The cluster view every DCS adapter returns, in Patroni's key layout and JSON value formats
 * (shared/reference/dcs-layout.md). Values are parsed once, at the adapter boundary
 * (see parse.ts); the HA loop only ever sees these read-only objects.
 *
 * A `Revision` is the DCS's own version of a key (etcd mod_revision, Consul ModifyIndex, Raft
 * revision), kept as a decimal string so 64-bit values survive. Writes pass it back for
 * compare-and-set.
 */
export type Revision = string;

export interface Versioned<T> {
  readonly value: T;
  readonly version: Revision;
}

/** Member `state` values Patroni publishes (dcs-layout.md §1.2). */
export type MemberState =
  | 'stopped' | 'stopping' | 'stop failed' | 'crashed' | 'running' | 'starting' | 'start failed'
  | 'restarting' | 'restart failed' | 'initializing new cluster' | 'initdb failed'
  | 'running custom bootstrap script' | 'custom bootstrap failed' | 'creating replica'
  | 'rewinding' | 'unknown';

/** `role` values; Patroni 3.x writes "master" for a primary, 4.x "primary": accept both. */
export type MemberRole =
  | 'uninitialized' | 'replica' | 'master' | 'primary' | 'promoted' | 'demoted' | 'standby_leader';

export interface MemberTags {
  readonly nofailover?: boolean;
  readonly failover_priority?: number;
  readonly noloadbalance?: boolean;
  readonly clonefrom?: boolean;
  readonly replicatefrom?: string;
  readonly nosync?: boolean;
  readonly nostream?: boolean;
  readonly [custom: string]: unknown;
}

/** The JSON stored under members/<name> (Patroni's field names). */
export interface MemberData {
  readonly conn_url: string;
  readonly api_url: string;
  readonly state: MemberState | string;
  readonly role: MemberRole | string;
  readonly version: string;
  readonly proxy_url?: string;
  readonly xlog_location?: number;
  readonly replication_state?: string;
  readonly timeline?: number;
  readonly tags?: MemberTags;
  readonly pending_restart?: boolean;
  readonly pending_restart_reason?: Readonly<Record<string, unknown>>;
  readonly scheduled_restart?: Readonly<Record<string, unknown>>;
  readonly pause?: boolean;
  readonly checkpoint_after_promote?: boolean;
  /** Our extensions (ignored by Patroni tooling). */
  readonly [extra: string]: unknown;
}

export interface Member {
  readonly name: string;
  readonly version: Revision;
  /** The lease / session the key is bound to, when the DCS reports one. */
  readonly session: string | null;
  readonly data: MemberData;
}

export interface Leader {
  /** The member name stored as the key's plain-string value. */
  readonly member: string;
  readonly version: Revision;
  /** The lease / session the key is bound to. */
  readonly session: string | null;
}

/** failover key: every field optional; "cleared" is `{}` (Patroni writes {} rather than deleting). */
export interface FailoverRequest {
  readonly leader?: string;
  readonly member?: string;
  readonly scheduled_at?: string;
}

export interface SyncState {
  readonly leader: string | null;
  /** Sorted member names; Patroni stores them comma-joined (or null). */
  readonly sync_standby: readonly string[];
}

/** [timeline, switch_lsn, reason, iso_timestamp?, new_leader?] */
export type HistoryLine = readonly [number, number, string, string?, string?];

export interface ClusterStatus {
  readonly optime: number;
  readonly slots?: Readonly<Record<string, number>>;
  readonly retain_slots?: readonly string[];
}

/** The dynamic configuration (DCS /config): kept as plain JSON, interpreted by config/dynamic.ts. */
export type DynamicConfigJson = Readonly<Record<string, unknown>>;

export interface ClusterView {
  /** System identifier; '' while the bootstrap race winner is still running initdb; null if absent. */
  readonly initialize: Versioned<string> | null;
  readonly config: Versioned<DynamicConfigJson> | null;
  readonly leader: Leader | null;
  readonly members: ReadonlyMap<string, Member>;
  readonly failover: Versioned<FailoverRequest> | null;
  readonly sync: Versioned<SyncState> | null;
  readonly history: Versioned<readonly HistoryLine[]> | null;
  readonly failsafe: Readonly<Record<string, string>> | null;
  readonly status: ClusterStatus | null;
  /** The store's revision this view was read at (0 when the store has none). */
  readonly revision: Revision;
}

export const EMPTY_CLUSTER: ClusterView = Object.freeze({
  initialize: null,
  config: null,
  leader: null,
  members: new Map(),
  failover: null,
  sync: null,
  history: null,
  failsafe: null,
  status: null,
  revision: '0',
});

/** Derived: the cluster's current timeline (history's last line + 1; [] → 1; absent → 0). */
export function clusterTimeline(view: ClusterView): number {
  if (!view.history) return 0;
  const lines = view.history.value;
  const last = lines[lines.length - 1];
  return last ? last[0] + 1 : 1;
}

/** Derived: the last known leader WAL position (from /status). */
export function clusterLastLsn(view: ClusterView): number {
  return view.status?.optime ?? 0;
}

/**
 * Result of a compare-and-set. Losing a race is a value, not an exception;
 * failing to reach the DCS is a DcsUnavailableError.
 */
export type CasResult =
  | { readonly ok: true; readonly version: Revision }
  | { readonly ok: false; readonly reason: 'version-mismatch' | 'exists' };

/**
 * `expect` for compare-and-set writes:
 * - `undefined`: unconditional write;
 * - `null`: the key must not exist (create only);
 * - a Revision: the key's current version must equal it.
 */
export type Expect = Revision | null | undefined;
