/**
 * Rebuilding the store's state when it is opened: read the snapshot file, replay the segments
 * from the one it names, and repair what a crash can leave behind (temp files, segments below
 * the compaction point whose deletion was interrupted, a torn tail in the last segment).
 *
 * Replay rule for an entry record at index i (baseIndex = the compaction point): if
 * i <= baseIndex, every entry after baseIndex is dropped (the write truncated the log below the
 * compaction point, so nothing after it survived); otherwise the log is cut before i and the
 * entry appended, and i must not leave a gap. That reproduces exactly the log the writes built.
 */
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Entry, HardState, Snapshot } from '../core/types.js';
import {
  PayloadFormatError,
  decodeEntry,
  decodeHardState,
  decodeSegmentHeader,
  decodeSnapshotBody,
  type SnapshotFileBody,
} from './codec.js';
import { StorageCorruptionError } from './errors.js';
import { SNAPSHOT_FILE, fsyncDir, listSegments, removeTempFiles, segmentName } from './files.js';
import type { StorageLogger } from './logger.js';
import { RecordKind, readRecordAt, scanRecords, type RawRecord } from './record.js';
import { truncateDurably } from './segment.js';

export interface SegmentInfo {
  readonly seq: number;
  /** Highest entry index written to the segment (0 if none); compaction deletes by it. */
  maxIndex: number;
}

export interface Recovered extends SnapshotFileBody {
  readonly hardState: HardState;
  /** Entries baseIndex+1 .. lastIndex. */
  readonly entries: Entry[];
  /** Segments still in use, ascending; the last is the one to append to. */
  readonly segments: SegmentInfo[];
  /** Bytes of batches in the last segment, preallocated zeros not counted (0 when there is none). */
  readonly tailBytes: number;
}

const EMPTY_SNAPSHOT: Snapshot = { index: 0, term: 0, confState: { voters: [], learners: [] }, data: new Uint8Array(0) };
const BLANK_HARD_STATE: HardState = { term: 0, vote: null, commit: 0 };

/** Reads and repairs `dir`; throws StorageCorruptionError when damage is not a crash's doing. */
export function recover(dir: string, log: StorageLogger): Recovered {
  const temps = removeTempFiles(dir);
  if (temps.length > 0) log.info({ dir, files: temps }, 'removed files of an interrupted atomic write');
  const body = readSnapshotFile(dir);
  const seqs = dropStaleSegments(dir, body.startSeq, log);
  const state = { hardState: BLANK_HARD_STATE, entries: [] as Entry[], baseIndex: body.baseIndex };
  const segments: SegmentInfo[] = [];
  let tailBytes = 0;
  seqs.forEach((seq, i) => {
    const isLast = i === seqs.length - 1;
    const { records, bytes } = readSegment(dir, seq, isLast, log);
    const info: SegmentInfo = { seq, maxIndex: 0 };
    replaySegment(join(dir, segmentName(seq)), seq, records, state, info);
    segments.push(info);
    tailBytes = bytes;
  });
  const last = body.baseIndex + state.entries.length;
  if (state.hardState.commit > last) {
    throw new StorageCorruptionError(dir, null, `hard state commit ${state.hardState.commit} is beyond the last stored entry ${last}`);
  }
  return { ...body, hardState: state.hardState, entries: state.entries, segments, tailBytes };
}

function readSnapshotFile(dir: string): SnapshotFileBody {
  const path = join(dir, SNAPSHOT_FILE);
  if (!existsSync(path)) return { snapshot: EMPTY_SNAPSHOT, baseIndex: 0, baseTerm: 0, startSeq: 1 };
  const buf = readFileSync(path);
  // Written atomically, so any damage here is corruption, not a torn write.
  const r = readRecordAt(buf, 0);
  if (!r.ok) throw new StorageCorruptionError(path, 0, r.reason);
  if (r.next !== buf.length) throw new StorageCorruptionError(path, r.next, `${buf.length - r.next} unexpected bytes after the snapshot record`);
  if (r.record.kind !== RecordKind.snapshot) throw new StorageCorruptionError(path, 0, `record kind ${r.record.kind} is not a snapshot`);
  try {
    return decodeSnapshotBody(r.record.payload);
  } catch (e) {
    throw asCorruption(e, path, 0);
  }
}

/** Deletes segments below `startSeq` (a compaction that crashed before deleting them). */
function dropStaleSegments(dir: string, startSeq: number, log: StorageLogger): number[] {
  const all = listSegments(dir);
  const stale = all.filter((s) => s < startSeq);
  for (const s of stale) unlinkSync(join(dir, segmentName(s)));
  if (stale.length > 0) {
    fsyncDir(dir);
    log.info({ dir, files: stale.map(segmentName) }, 'removed segments below the compaction point');
  }
  const live = all.filter((s) => s >= startSeq);
  live.forEach((seq, i) => {
    if (seq !== startSeq + i) {
      throw new StorageCorruptionError(join(dir, segmentName(startSeq + i)), null, `segment is missing (segments ${live.map(String).join(', ')} present, the log resumes at ${startSeq})`);
    }
  });
  return live;
}

/** Reads one segment; cuts a torn tail off the last one. */
function readSegment(dir: string, seq: number, isLast: boolean, log: StorageLogger): { records: readonly RawRecord[]; bytes: number } {
  const path = join(dir, segmentName(seq));
  const buf = readFileSync(path);
  const { records, damage, end } = scanRecords(buf);
  if (records.length < 2) {
    // Segments are created whole (header + hard state, fsync'd, then renamed into place), so
    // damage there is not a torn write, and cutting it could forget the node's vote.
    throw new StorageCorruptionError(path, damage?.offset ?? buf.length, `${damage?.reason ?? 'file ends'} within the segment's header batch`);
  }
  // A zero-filled tail is preallocated space: kept, and overwritten by the next appends.
  if (damage === null) return { records, bytes: end };
  if (damage.laterBatchAt !== null) {
    throw new StorageCorruptionError(path, damage.offset, `${damage.reason}, yet an intact later write begins at offset ${damage.laterBatchAt}`);
  }
  if (!isLast) {
    // A newer segment is only created after this one was fsync'd: its tail cannot be torn.
    throw new StorageCorruptionError(path, damage.offset, `${damage.reason} in a segment that is not the last one`);
  }
  log.warn(
    { file: path, offset: damage.offset, reason: damage.reason, droppedBytes: buf.length - damage.offset, keptRecords: records.length },
    'cut a torn or corrupt tail off the raft log (a write the crash interrupted)',
  );
  truncateDurably(path, damage.offset);
  return { records, bytes: damage.offset };
}

interface ReplayState {
  hardState: HardState;
  entries: Entry[];
  readonly baseIndex: number;
}

function replaySegment(path: string, seq: number, records: readonly RawRecord[], st: ReplayState, info: SegmentInfo): void {
  records.forEach((rec, i) => {
    try {
      if ((i === 0) !== (rec.kind === RecordKind.segmentHeader)) {
        throw new PayloadFormatError(i === 0 ? `first record has kind ${rec.kind}, expected a segment header` : 'a second segment header');
      }
      if (rec.kind === RecordKind.segmentHeader) {
        const header = decodeSegmentHeader(rec.payload);
        if (header.seq !== seq) throw new PayloadFormatError(`header says segment ${header.seq}, the file name says ${seq}`);
      } else if (rec.kind === RecordKind.hardState) {
        st.hardState = decodeHardState(rec.payload);
      } else if (rec.kind === RecordKind.entry) {
        const entry = decodeEntry(rec.payload);
        replayEntry(entry, st);
        info.maxIndex = Math.max(info.maxIndex, entry.index);
      } else {
        throw new PayloadFormatError(`record kind ${rec.kind} does not belong in a segment`);
      }
    } catch (e) {
      throw asCorruption(e, path, rec.offset);
    }
  });
}

function replayEntry(e: Entry, st: ReplayState): void {
  if (e.index <= st.baseIndex) {
    st.entries.length = 0;
    return;
  }
  const last = st.baseIndex + st.entries.length;
  if (e.index > last + 1) throw new PayloadFormatError(`entry ${e.index} leaves a gap after entry ${last}`);
  st.entries.length = e.index - st.baseIndex - 1;
  st.entries.push(e);
}

function asCorruption(e: unknown, path: string, offset: number): unknown {
  return e instanceof PayloadFormatError ? new StorageCorruptionError(path, offset, e.message) : e;
}
