/**
 * The vocabulary between the pure decision function (decide.ts) and the executor (agent.ts).
 *
 * decide(view, local, settings, now) -> Decision. The executor runs `actions` in order; an action
 * that fails or loses a race (e.g. acquire-lock returning false) ABORTS the rest of the list and
 * the loop runs another cycle at once, deciding afresh from a new view. So a plan never needs
 * branches: "acquire the lock, then promote" is two actions, and promote never runs without the
 * lock.
 */
import type { ClusterView, MemberTags } from '../dcs/types.js';

/** Monotonic milliseconds (performance.now() in the executor; any number in tests). */
export type MonoMs = number;

export type DemoteMode =
  /** DCS unreachable: fast stop, keep the key (we cannot delete it anyway), restart read-only. */
  | 'offline'
  /** Switchover: fast stop with checkpoint, then release the key, then follow. */
  | 'graceful'
  /** Unfit to be primary: immediate stop, release the key. */
  | 'immediate'
  /** Lock lost: immediate stop, do not touch the key (it is not ours). */
  | 'immediate-nolock';

export type Action =
  /** Race for the initialize key (create-only with ""). Aborts the plan if lost. */
  | { readonly kind: 'acquire-initialize' }
  /** initdb + configure + start as primary, then take the leader key and write initialize=sysid, config. */
  | { readonly kind: 'bootstrap' }
  /** Remove our claim on the initialize key after a failed bootstrap. */
  | { readonly kind: 'cancel-initialize' }
  /** Write initialize=<local sysid> (adopting existing data, or after bootstrap). */
  | { readonly kind: 'write-initialize'; readonly sysid: string }
  /** Write the dynamic config from bootstrap.dcs (the leader does this when /config is missing). */
  | { readonly kind: 'write-config' }
  /** pg_basebackup from a member (the leader, or a clonefrom member), then start as a replica. */
  | { readonly kind: 'clone'; readonly from: string }
  /** Take the leader key if free. Aborts the plan when someone else holds it. */
  | { readonly kind: 'acquire-lock' }
  /** Renew the lease and confirm the key is still ours. Aborts the plan (and demotes next cycle) if not. */
  | { readonly kind: 'renew-lock' }
  /** Delete the leader key if it is ours. */
  | { readonly kind: 'release-lock' }
  /** Promote the local PostgreSQL (only ever after acquire-lock or renew-lock in the same plan). */
  | { readonly kind: 'promote' }
  /**
   * Synchronous mode, right before promote: claim /sync with no standby (CAS; aborts the plan if
   * lost) and, when strict, set synchronous_standby_names to '*' so no commit runs unprotected.
   */
  | { readonly kind: 'prepare-sync'; readonly strict: boolean }
  | { readonly kind: 'demote'; readonly mode: DemoteMode }
  /** Start PostgreSQL. role 'primary' = start as it was (crash restart of a primary). */
  | { readonly kind: 'start'; readonly role: 'primary' | 'replica' | 'readonly'; readonly follow: string | null }
  /** Point (or re-point) the replica at `leader` (null: no upstream); reload or restart as needed. */
  | { readonly kind: 'follow'; readonly leader: string | null }
  | { readonly kind: 'stop'; readonly mode: 'smart' | 'fast' | 'immediate' }
  | { readonly kind: 'restart' }
  /** pg_rewind against `from`, then start as a replica of it. */
  | { readonly kind: 'rewind'; readonly from: string }
  /** Wipe the data directory and clone again from `from`. */
  | { readonly kind: 'reinit'; readonly from: string }
  /** Clear the failover/switchover key (write {}). */
  | { readonly kind: 'clear-failover' }
  /** Record the timeline switch in /history after our promotion. */
  | { readonly kind: 'update-history' };

export type ActionKind = Action['kind'];

export interface Decision {
  readonly actions: readonly Action[];
  /** One sentence an operator can read: why this node does (or does not do) what it does. */
  readonly reason: string;
  /** Role this node will have if the actions succeed (for logs and REST). */
  readonly role?: 'primary' | 'replica' | 'uninitialized' | 'demoted';
}

/** What the local PostgreSQL looks like this cycle (probed by the executor before deciding). */
export interface LocalPostgres {
  /** 'empty' = no data directory or no PG_VERSION; 'invalid' = data present but no readable pg_control. */
  readonly dataDir: 'empty' | 'initialized' | 'invalid';
  readonly sysid: string | null;
  readonly running: boolean;
  /** Only meaningful while running. */
  readonly inRecovery: boolean;
  readonly timeline: number | null;
  /** primary: flush LSN; replica: max(received, replayed); bytes. */
  readonly walPosition: number | null;
  /** pg_controldata "Database cluster state" when not running (e.g. 'in production', 'shut down'). */
  readonly controlState: string | null;
  /** standby.signal (or recovery.signal) present. */
  readonly standbySignal: boolean;
  /** Member name the replica currently streams from (from our managed primary_conninfo), if any. */
  readonly following: string | null;
  /** pg_rewind would be needed to follow the current leader (null = not checked / no leader). */
  readonly needsRewind: boolean | null;
}

/** An async job in progress on this node (clone, bootstrap, rewind, restart...). */
export interface RunningTask {
  readonly kind: 'bootstrap' | 'clone' | 'rewind' | 'reinit' | 'restart' | 'start' | 'stop' | 'promote';
  readonly startedAt: MonoMs;
}

/** What a peer answered on GET /patroni during the leader race (null = unreachable). */
export interface PeerStatus {
  readonly name: string;
  readonly role: string;
  readonly state: string;
  readonly walPosition: number;
  readonly timeline: number | null;
  readonly tags: MemberTags;
  readonly inRecovery: boolean;
}

/** Failsafe mode: the outcome of this cycle's POST /failsafe round (failsafe.ts). */
export interface FailsafeRoundResult {
  /** Every other member of the last known /failsafe list answered 200 "Accepted" (vacuously true when none is listed). */
  readonly ok: boolean;
  /** One readable clause for the reason: "all 2 members confirmed failsafe", "member node2 did not confirm (timeout)". */
  readonly detail: string;
}

/** Failsafe mode: the member that last confirmed to us over POST /failsafe that it runs as primary. */
export interface FailsafeSender {
  readonly name: string;
  /** When its POST arrived (monotonic ms, this process). */
  readonly receivedAt: MonoMs;
}

export interface LocalFacts {
  readonly name: string;
  readonly tags: MemberTags;
  readonly pg: LocalPostgres;
  /** True while the executor believes it holds the leader key (last acquire/renew succeeded). */
  readonly holdsLock: boolean;
  /** Monotonic deadline after which this node must not accept writes (null = never held a lease). */
  readonly leaseDeadline: MonoMs | null;
  /** Set when this cycle's DCS read failed: the view is then the last good one (or empty). */
  readonly dcsError: string | null;
  readonly task: RunningTask | null;
  /** When PostgreSQL was found dead while we were primary (for primary_start_timeout). */
  readonly crashedAt: MonoMs | null;
  /** Peers' answers, for the leader race (only filled when the cluster has no leader). */
  readonly peers: ReadonlyMap<string, PeerStatus | null>;
  /** bootstrap section present in the local config (a node without it never races initialize). */
  readonly canBootstrap: boolean;
  /** Last rewind attempt failed against the current leader. */
  readonly rewindFailed: boolean;
  /**
   * Failsafe mode, DCS unreachable, this node a running primary holding the lock: the result of the
   * round of POST /failsafe the agent ran this cycle. null when no round ran.
   */
  readonly failsafe: FailsafeRoundResult | null;
  /** The last primary whose POST /failsafe this node accepted (null: none); rules apply the ttl window. */
  readonly failsafeSender: FailsafeSender | null;
}

/** The settings decide() needs (effective config: dynamic from DCS overlaid by local). */
export interface HaSettings {
  readonly ttlSeconds: number;
  readonly loopWaitSeconds: number;
  readonly retryTimeoutSeconds: number;
  readonly maximumLagOnFailover: number;
  readonly primaryStartTimeoutSeconds: number;
  readonly pause: boolean;
  readonly useRewind: boolean;
  readonly removeDataDirectoryOnRewindFailure: boolean;
  readonly removeDataDirectoryOnDivergedTimelines: boolean;
  readonly synchronousMode: boolean;
  readonly synchronousModeStrict: boolean;
  readonly checkTimeline: boolean;
  /** Dynamic failsafe_mode: a primary that loses the DCS may stay primary while every member confirms it. */
  readonly failsafeMode: boolean;
}

export type DecideFn = (view: ClusterView, local: LocalFacts, settings: HaSettings, now: { mono: MonoMs; wall: number }) => Decision;
