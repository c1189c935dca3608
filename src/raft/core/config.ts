/**
 * Construction options of the core, with their defaults applied in one place.
 */
import { MAJORITY, type CommitRule } from '../quorum/quorum.js';
import { invariant } from './errors.js';
import type { Storage } from './storage.js';
import type { NodeId, Rng } from './types.js';

export interface RaftConfig {
  readonly id: NodeId;
  /** Durable state written by the driver; read at construction and whenever the core needs entries. */
  readonly storage: Storage;
  readonly rng: Rng;
  /**
   * Follower's election timeout (QLUSTER node-timeout): with no word from a leader for a random
   * number of ticks in [electionTicks, 2 * electionTicks) a follower starts a (pre-)election. It
   * is also the check-quorum period and the follower-side leader lease.
   */
  readonly electionTicks: number;
  /** Leader heartbeat period (QLUSTER heartbeat-interval). Must be < electionTicks. */
  readonly heartbeatTicks: number;
  /** A pre-candidate retries after a random [T, 2T) ticks (QLUSTER pre-voting-timeout). Default electionTicks. */
  readonly preVoteTicks?: number;
  /** A candidate retries after a random [T, 2T) ticks (QLUSTER leader-voting-timeout). Default electionTicks. */
  readonly leaderVotingTicks?: number;
  /** Resend to a follower that made no progress for this many ticks (replication-retry-interval). Default 2 * heartbeatTicks. */
  readonly replicationRetryTicks?: number;
  /**
   * Default true. With both preVote and checkQuorum off, a removed server that never learned of
   * its removal keeps campaigning with ever higher terms and deposes each new leader (thesis
   * §4.2.3); the simulation reproduces this, so keep at least one of them on.
   */
  readonly preVote?: boolean;
  /** Default true; also enables the follower-side leader lease. */
  readonly checkQuorum?: boolean;
  /** Default majority. */
  readonly commitRule?: CommitRule;
  /** Default 64. */
  readonly maxEntriesPerAppend?: number;
  /** Default 256. */
  readonly maxCommittedPerReady?: number;
  /**
   * The leader proposes a learner's promotion once its match index is within this many entries
   * of the leader's last index; null disables automatic promotion. Default 16.
   */
  readonly promotionWindow?: number | null;
  /** Autoremove (QLUSTER autoremove-*); null (default) disables it. */
  readonly autoremove?: { readonly minimumVoters: number; readonly afterTicks: number } | null;
  /** Last index the driver's state machine has applied (default: the storage snapshot's index). */
  readonly applied?: number;
}

export type ResolvedConfig = Required<Omit<RaftConfig, 'applied'>> & { readonly applied: number };

export function resolveConfig(c: RaftConfig): ResolvedConfig {
  invariant(c.id !== '', 'node id must not be empty');
  const positive = (name: string, v: number) =>
    invariant(Number.isInteger(v) && v > 0, () => `${name} must be a positive integer, got ${v}`);
  positive('electionTicks', c.electionTicks);
  positive('heartbeatTicks', c.heartbeatTicks);
  invariant(c.heartbeatTicks < c.electionTicks, () => `heartbeatTicks (${c.heartbeatTicks}) must be < electionTicks (${c.electionTicks})`);
  const r: ResolvedConfig = {
    id: c.id,
    storage: c.storage,
    rng: c.rng,
    electionTicks: c.electionTicks,
    heartbeatTicks: c.heartbeatTicks,
    preVoteTicks: c.preVoteTicks ?? c.electionTicks,
    leaderVotingTicks: c.leaderVotingTicks ?? c.electionTicks,
    replicationRetryTicks: c.replicationRetryTicks ?? 2 * c.heartbeatTicks,
    preVote: c.preVote ?? true,
    checkQuorum: c.checkQuorum ?? true,
    commitRule: c.commitRule ?? MAJORITY,
    maxEntriesPerAppend: c.maxEntriesPerAppend ?? 64,
    maxCommittedPerReady: c.maxCommittedPerReady ?? 256,
    promotionWindow: c.promotionWindow === undefined ? 16 : c.promotionWindow,
    autoremove: c.autoremove ?? null,
    applied: c.applied ?? c.storage.snapshot().index,
  };
  positive('preVoteTicks', r.preVoteTicks);
  positive('leaderVotingTicks', r.leaderVotingTicks);
  positive('replicationRetryTicks', r.replicationRetryTicks);
  positive('maxEntriesPerAppend', r.maxEntriesPerAppend);
  return r;
}
