/**
 * QLUSTER's `cluster:` settings (seed qluster.txt) mapped onto the core. Durations arrive in
 * milliseconds (the config layer parses "30s", "1m"); the core counts ticks, so each duration
 * becomes ceil(ms / tickMs) ticks, at least 1. Example with tickMs = 100: node-timeout 1 s ->
 * electionTicks 10, heartbeat-interval 100 ms -> heartbeatTicks 1.
 */
import { majority, type CommitRule } from '../quorum/quorum.js';
import type { RaftConfig } from './config.js';

export interface QlusterRaftSettings {
  /** node-timeout: silence from the leader before a follower starts pre-voting (election timeout). */
  readonly nodeTimeoutMs: number;
  /** heartbeat-interval: period of the leader's heartbeats. */
  readonly heartbeatIntervalMs: number;
  /** pre-voting-timeout: how long a pre-vote round may take before it is retried. */
  readonly preVotingTimeoutMs: number;
  /** leader-voting-timeout: how long a vote round may take before it is retried. */
  readonly leaderVotingTimeoutMs: number;
  /** quorum-replication: true = majority of voters; false = every voter. */
  readonly quorumReplication: boolean;
  /** replication-factor: 0 = use quorum-replication; N > 0 = max(N, majority) voters. */
  readonly replicationFactor: number;
  /** replication-retry-interval: resend to a follower that made no progress for this long. */
  readonly replicationRetryIntervalMs: number;
  readonly autoremoveEnabled: boolean;
  /** autoremove-minimum: autoremove acts only while there are more voters than this. */
  readonly autoremoveMinimum: number;
  /** remove-interval: how long a voter must have been silent before autoremove proposes its removal. */
  readonly removeIntervalMs: number;
  /** hello-retry-interval: a starting node's retry interval for reaching its peers (transport). */
  readonly helloRetryIntervalMs: number;
}

/** The tick of the embedded node and the arbiter: every duration is rounded up to a multiple of it. */
export const DRIVER_TICK_MS = 50;

/** The seed's example values. */
export const QLUSTER_DEFAULTS: QlusterRaftSettings = {
  nodeTimeoutMs: 30_000,
  heartbeatIntervalMs: 10_000,
  preVotingTimeoutMs: 10_000,
  leaderVotingTimeoutMs: 10_000,
  quorumReplication: true,
  replicationFactor: 0,
  replicationRetryIntervalMs: 1_000,
  autoremoveEnabled: false,
  autoremoveMinimum: 3,
  removeIntervalMs: 60_000,
  helloRetryIntervalMs: 1_000,
};

export interface RaftTiming {
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVoteTicks: number;
  readonly leaderVotingTicks: number;
  readonly replicationRetryTicks: number;
  /** Not used by the core: for the driver/transport retrying its first contact with peers. */
  readonly helloRetryTicks: number;
  readonly removeAfterTicks: number;
}

export function msToTicks(ms: number, tickMs: number): number {
  return Math.max(1, Math.ceil(ms / tickMs));
}

export function raftTimingFromQluster(s: QlusterRaftSettings, tickMs: number): RaftTiming {
  return {
    electionTicks: msToTicks(s.nodeTimeoutMs, tickMs),
    heartbeatTicks: msToTicks(s.heartbeatIntervalMs, tickMs),
    preVoteTicks: msToTicks(s.preVotingTimeoutMs, tickMs),
    leaderVotingTicks: msToTicks(s.leaderVotingTimeoutMs, tickMs),
    replicationRetryTicks: msToTicks(s.replicationRetryIntervalMs, tickMs),
    helloRetryTicks: msToTicks(s.helloRetryIntervalMs, tickMs),
    removeAfterTicks: msToTicks(s.removeIntervalMs, tickMs),
  };
}

export function commitRuleFromQluster(s: QlusterRaftSettings): CommitRule {
  if (s.replicationFactor > 0) return { kind: 'factor', factor: s.replicationFactor };
  return s.quorumReplication ? { kind: 'majority' } : { kind: 'all' };
}

/** The RaftConfig fields QLUSTER settings determine (validate first with validateRaftSettings). */
export function raftOptionsFromQluster(
  s: QlusterRaftSettings,
  tickMs: number,
): Pick<RaftConfig, 'electionTicks' | 'heartbeatTicks' | 'preVoteTicks' | 'leaderVotingTicks' | 'replicationRetryTicks' | 'commitRule' | 'autoremove'> {
  const t = raftTimingFromQluster(s, tickMs);
  return {
    electionTicks: t.electionTicks,
    heartbeatTicks: t.heartbeatTicks,
    preVoteTicks: t.preVoteTicks,
    leaderVotingTicks: t.leaderVotingTicks,
    replicationRetryTicks: t.replicationRetryTicks,
    commitRule: commitRuleFromQluster(s),
    autoremove: s.autoremoveEnabled ? { minimumVoters: s.autoremoveMinimum, afterTicks: t.removeAfterTicks } : null,
  };
}

/** QLUSTER's key names (seed qluster.txt), as an operator writes them. */
export type QlusterKey =
  | 'node-timeout' | 'heartbeat-interval' | 'pre-voting-timeout' | 'leader-voting-timeout'
  | 'replication-retry-interval' | 'hello-retry-interval' | 'quorum-replication' | 'replication-factor'
  | 'autoremove-enabled' | 'autoremove-minimum' | 'remove-interval';

/** Which settings field each key fills. */
export const QLUSTER_FIELDS: Readonly<Record<QlusterKey, keyof QlusterRaftSettings>> = {
  'node-timeout': 'nodeTimeoutMs',
  'heartbeat-interval': 'heartbeatIntervalMs',
  'pre-voting-timeout': 'preVotingTimeoutMs',
  'leader-voting-timeout': 'leaderVotingTimeoutMs',
  'replication-retry-interval': 'replicationRetryIntervalMs',
  'hello-retry-interval': 'helloRetryIntervalMs',
  'quorum-replication': 'quorumReplication',
  'replication-factor': 'replicationFactor',
  'autoremove-enabled': 'autoremoveEnabled',
  'autoremove-minimum': 'autoremoveMinimum',
  'remove-interval': 'removeIntervalMs',
};

const DURATION_KEYS: readonly QlusterKey[] = [
  'node-timeout', 'heartbeat-interval', 'pre-voting-timeout', 'leader-voting-timeout',
  'replication-retry-interval', 'remove-interval', 'hello-retry-interval',
];

/** One problem with the settings: the key at fault, its value, and what is wrong (without the key). */
export interface RaftSettingsIssue {
  readonly key: QlusterKey;
  readonly value: number | boolean;
  readonly message: string;
}

/**
 * Checks the settings for a cluster of `voters` voters (null: unknown, e.g. a node that joins an
 * existing cluster; the size-dependent rules are then skipped) ticking every `tickMs` ms. Other
 * keys are named in messages as `${prefix}<key>` ("cluster." in QLUSTER's file, "raft." in ours).
 * This is the one source of truth for these rules: the config layer reports its result.
 */
export function checkRaftSettings(s: QlusterRaftSettings, voters: number | null, tickMs: number, prefix = 'cluster.'): RaftSettingsIssue[] {
  const issues: RaftSettingsIssue[] = [];
  for (const key of DURATION_KEYS) {
    const v = s[QLUSTER_FIELDS[key]] as number;
    if (!Number.isFinite(v) || v <= 0) issues.push({ key, value: v, message: `expected a positive duration, got ${v} ms` });
  }
  if (issues.length === 0 && msToTicks(s.heartbeatIntervalMs, tickMs) >= msToTicks(s.nodeTimeoutMs, tickMs)) {
    issues.push({
      key: 'heartbeat-interval', value: s.heartbeatIntervalMs,
      message: `${s.heartbeatIntervalMs} ms must be shorter than ${prefix}node-timeout (${s.nodeTimeoutMs} ms) ` +
        `by at least one tick of ${tickMs} ms, or followers would time out between heartbeats`,
    });
  }
  issues.push(...checkReplication(s, voters, prefix));
  if (s.autoremoveEnabled) {
    if (!Number.isInteger(s.autoremoveMinimum) || s.autoremoveMinimum < 1) {
      issues.push({ key: 'autoremove-minimum', value: s.autoremoveMinimum, message: `expected an integer >= 1, got ${s.autoremoveMinimum}` });
    }
    if (s.removeIntervalMs < s.nodeTimeoutMs) {
      issues.push({
        key: 'remove-interval', value: s.removeIntervalMs,
        message: `${s.removeIntervalMs} ms is shorter than ${prefix}node-timeout (${s.nodeTimeoutMs} ms); a node would be removed before it is even considered failed`,
      });
    }
  }
  return issues;
}

/** checkRaftSettings as sentences "cluster.<key>: <problem>"; [] when all is well. */
export function validateRaftSettings(s: QlusterRaftSettings, voters: number, tickMs: number): string[] {
  return checkRaftSettings(s, voters, tickMs).map((i) => `cluster.${i.key}: ${i.message}`);
}

function checkReplication(s: QlusterRaftSettings, voters: number | null, prefix: string): RaftSettingsIssue[] {
  const f = s.replicationFactor;
  const issue = (message: string): RaftSettingsIssue => ({ key: 'replication-factor', value: f, message });
  if (!Number.isInteger(f) || f < 0) return [issue(`expected an integer >= 0, got ${f}`)];
  if (f === 0 || voters === null) return [];
  const issues: RaftSettingsIssue[] = [];
  if (f > voters) issues.push(issue(`${f} exceeds the cluster size (${voters} voters); no entry could ever commit`));
  if (f < majority(voters)) {
    issues.push(issue(`${f} is below a majority of ${voters} voters (${majority(voters)}); it would weaken the commit rule, use 0 for majority`));
  }
  if (!s.quorumReplication && f < voters) {
    issues.push(issue(`${f} conflicts with ${prefix}quorum-replication: false (every voter must store each entry); set one of them`));
  }
  return issues;
}
