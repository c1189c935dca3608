/** Public API of the pure Raft core. */
export { RawNode } from './raw-node.js';
export type { PeerStatus, Status } from './raw-node.js';
export type { RaftConfig } from './config.js';
export { InvariantError } from './errors.js';
export { MemoryStorage, bootstrapState } from './storage.js';
export type { Storage } from './storage.js';
export { describeEntry, describeEvent, describeHardState, describeMessage, describeReady, describeSnapshot } from './describe.js';
export {
  DRIVER_TICK_MS,
  QLUSTER_DEFAULTS,
  QLUSTER_FIELDS,
  checkRaftSettings,
  commitRuleFromQluster,
  msToTicks,
  raftOptionsFromQluster,
  raftTimingFromQluster,
  validateRaftSettings,
} from './qluster.js';
export type { QlusterKey, QlusterRaftSettings, RaftSettingsIssue, RaftTiming } from './qluster.js';
export type {
  ConfChange,
  ConfState,
  Entry,
  EntryType,
  HardState,
  Message,
  MessageType,
  NodeId,
  ProposeResult,
  RaftEvent,
  ReadState,
  Ready,
  Rng,
  Role,
  Snapshot,
  SoftState,
} from './types.js';
export type { CommitRule } from '../quorum/quorum.js';
