/** Public API of the local PostgreSQL control layer. Tests may import the modules directly. */
export { PostgresControl } from './instance.js';
export { closeKeptConnections } from './client.js';
export { abortLongJobs } from './exec.js';
export { slotNameFromMember } from './slots.js';
export { parseLsn, formatLsn } from './lsn.js';
export { parseHistory, rewindVerdict } from './timeline.js';
export {
  PostgresError, PostgresConfigError, PostgresCommandError, PostgresStateError, PostgresStartError, PostgresQueryError,
} from './errors.js';
export type { HistoryEntry, LocalPosition, RewindVerdict } from './timeline.js';
export type { Row } from './client.js';
export type { CloneOptions } from './clone.js';
export type { SyncStandbyNames } from './sync-guc.js';
export type {
  BootstrapUser, ConnInfo, Credentials, PgLogger, PgProbe, PostgresSettings, ReplicationRow, RewindResult,
  SlotSyncResult, StartOptions, StopMode, ToolOption,
} from './types.js';
