/** Public API of the replicated KV state machine (built-in Raft DCS). */
export { KvStateMachine } from './state-machine.js';
export type { KvListener, KvStateMachineOptions } from './state-machine.js';
export { decodeCommand, encodeCommand, KvCommandError } from './commands.js';
export type { DecodedCommand } from './commands.js';
export { KvSnapshotError } from './snapshot.js';
export { isReadOnlyTxn } from './txn.js';
export { DEFAULT_HISTORY_EVENTS } from './history.js';
export { LeaseClock, LeaseTtlError, validateLeaseTtl } from './lease-clock.js';
export type { LeaseClockOptions } from './lease-clock.js';
export type { RangeTarget } from './store.js';
export type {
  AppliedChange,
  Compare,
  CompareOp,
  DeleteOp,
  DeletePrefixOp,
  KeyValue,
  KvClientOps,
  KvCommand,
  KvErrorResult,
  KvEvent,
  KvResult,
  LeaseGrantResult,
  LeaseInfo,
  LeaseKeepAliveResult,
  LeaseRevokeResult,
  OpResponse,
  PutOp,
  RangeOp,
  RangeOptions,
  RangeReply,
  SkippedResult,
  TxnOp,
  TxnRequest,
  TxnResult,
  WatchResult,
} from './types.js';
