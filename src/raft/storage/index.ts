/** Public API of the durable Raft log store. */
export { DEFAULT_PREALLOCATE_BYTES, DEFAULT_SEGMENT_BYTES, DiskStorage } from './disk-storage.js';
export type { DiskStorageOptions, PersistBatch } from './disk-storage.js';
export { StorageCorruptionError, StorageFailedError, StorageLockedError } from './errors.js';
export type { StorageLogger } from './logger.js';
