/**
 * QLUSTER settings -> RaftNode options: the core's timing and commit/autoremove options
 * (raftOptionsFromQluster) plus hello-retry-interval as the transport's first reconnect delay.
 * Used by the embedded node (dcs/raft/embedded.ts) and the arbiter alike.
 */
import { checkRaftSettings, DRIVER_TICK_MS, raftOptionsFromQluster, type QlusterRaftSettings } from './core/index.js';
import type { RaftNodeOptions } from './node.js';

export type QlusterNodeOptions = Pick<RaftNodeOptions, 'tickMs' | 'electionTicks' | 'heartbeatTicks' | 'reconnectBaseMs' | 'tuning'>;

/**
 * Checks `s` for a cluster of `voters` voters (null: unknown, a joining node) and maps it; throws
 * an Error listing every problem ("raft.<key>: ...") when the settings are unusable.
 */
export function nodeOptionsFromQluster(s: QlusterRaftSettings, voters: number | null, tickMs = DRIVER_TICK_MS): QlusterNodeOptions {
  const issues = checkRaftSettings(s, voters, tickMs, 'raft.');
  if (issues.length > 0) throw new Error(issues.map((i) => `raft.${i.key}: ${i.message}`).join('; '));
  const { electionTicks, heartbeatTicks, ...tuning } = raftOptionsFromQluster(s, tickMs);
  return { tickMs, electionTicks, heartbeatTicks, reconnectBaseMs: s.helloRetryIntervalMs, tuning };
}
