/**
 * Record framing shared by the log segments and the snapshot file:
 *
 *     [payload length u32 LE][crc32c u32 LE][kind u8][payload]
 *
 * The checksum covers the length bytes, the kind byte and the payload, so a damaged length is
 * caught like damaged data. The kind byte's high bit marks the first record of a write batch
 * (one persist call, written with one write() and one fdatasync()). That bit is what lets
 * recovery tell a torn tail from real corruption: a batch is only written after the previous
 * one was fsync'd, so a damaged record followed by an intact record that STARTS a later batch
 * means durable data rotted (refuse to open), while damage followed by nothing, or only by the
 * rest of its own batch, is a write the crash interrupted (cut it off).
 *
 * Segments are preallocated (segment.ts): zeros from some offset to the end of the file are free
 * space, not damage. A record never starts with nine zero bytes (its checksum would not match).
 */
import { crc32c } from './crc32c.js';

export const HEADER_BYTES = 9;
/** Larger lengths are garbage; it also bounds the work of the forward scan after damage. */
export const MAX_PAYLOAD_BYTES = 256 * 1024 * 1024;

export const RecordKind = { segmentHeader: 1, hardState: 2, entry: 3, snapshot: 4 } as const;
export type RecordKind = (typeof RecordKind)[keyof typeof RecordKind];
const KNOWN_KINDS = new Set<number>(Object.values(RecordKind));
const BATCH_START = 0x80;

/** Bytes needed to frame a payload of `payloadBytes`. */
export const recordSize = (payloadBytes: number): number => HEADER_BYTES + payloadBytes;

/**
 * Frames a record into `out` at `at` whose payload has already been written at
 * `at + HEADER_BYTES`; returns the offset just past it. Writing the payload in place lets a
 * whole batch be encoded into one buffer without copies.
 */
export function sealRecord(out: Buffer, at: number, kind: RecordKind, payloadBytes: number, batchStart: boolean): number {
  out.writeUInt32LE(payloadBytes, at);
  out[at + 8] = kind | (batchStart ? BATCH_START : 0);
  const end = at + HEADER_BYTES + payloadBytes;
  out.writeUInt32LE(checksumAt(out, at, end), at + 4);
  return end;
}

function checksumAt(buf: Buffer, at: number, end: number): number {
  return crc32c(buf, at + 8, end, crc32c(buf, at, at + 4));
}

export interface RawRecord {
  readonly kind: RecordKind;
  readonly batchStart: boolean;
  /** Offset of the record's header in its file. */
  readonly offset: number;
  /** A view into the file buffer; decoders copy what they keep. */
  readonly payload: Buffer;
}

type Attempt = { readonly ok: true; readonly record: RawRecord; readonly next: number } | { readonly ok: false; readonly reason: string };

/** Parses the record at `at`, or says why the bytes there are not one. */
export function readRecordAt(buf: Buffer, at: number): Attempt {
  const left = buf.length - at;
  if (left < HEADER_BYTES) return { ok: false, reason: `short header (${left} of ${HEADER_BYTES} bytes)` };
  const len = buf.readUInt32LE(at);
  const kindByte = buf[at + 8] ?? 0;
  if (len > MAX_PAYLOAD_BYTES) return { ok: false, reason: `length ${len} over the ${MAX_PAYLOAD_BYTES}-byte limit` };
  if (len > left - HEADER_BYTES) return { ok: false, reason: `truncated payload (length ${len}, ${left - HEADER_BYTES} bytes left)` };
  const end = at + HEADER_BYTES + len;
  if (checksumAt(buf, at, end) !== buf.readUInt32LE(at + 4)) return { ok: false, reason: 'checksum mismatch' };
  const kind = kindByte & ~BATCH_START;
  if (!KNOWN_KINDS.has(kind)) return { ok: false, reason: `unknown record kind ${kind}` };
  return {
    ok: true,
    record: { kind: kind as RecordKind, batchStart: (kindByte & BATCH_START) !== 0, offset: at, payload: buf.subarray(at + HEADER_BYTES, end) },
    next: end,
  };
}

export interface Damage {
  /** Offset of the first record that does not parse; everything before it is intact. */
  readonly offset: number;
  readonly reason: string;
  /** Offset of an intact record starting a later batch, or null when the damage is a torn tail. */
  readonly laterBatchAt: number | null;
}

export interface ScanResult {
  readonly records: readonly RawRecord[];
  readonly damage: Damage | null;
  /** Offset just past the last intact record (where the next write goes when there is no damage). */
  readonly end: number;
}

/**
 * Reads records from the start of `buf` up to the end, a zero-filled tail (preallocated space:
 * not damage) or the first damaged record.
 */
export function scanRecords(buf: Buffer): ScanResult {
  const records: RawRecord[] = [];
  let at = 0;
  while (at < buf.length) {
    const r = readRecordAt(buf, at);
    if (!r.ok) {
      if (zeroFrom(buf, at)) return { records, damage: null, end: at };
      return { records, damage: { offset: at, reason: r.reason, laterBatchAt: findBatchStart(buf, at + 1) }, end: at };
    }
    records.push(r.record);
    at = r.next;
  }
  return { records, damage: null, end: at };
}

function zeroFrom(buf: Buffer, at: number): boolean {
  for (let i = at; i < buf.length; i++) if (buf[i] !== 0) return false;
  return true;
}

/**
 * The first offset >= `from` holding an intact batch-start record. Damage hides where records
 * begin, so every offset is tried; the kind byte and length are checked before the checksum,
 * which keeps this cheap. Only run after damage was found.
 */
function findBatchStart(buf: Buffer, from: number): number | null {
  for (let at = from; at + HEADER_BYTES <= buf.length; at++) {
    const kindByte = buf[at + 8] ?? 0;
    if ((kindByte & BATCH_START) === 0 || !KNOWN_KINDS.has(kindByte & ~BATCH_START)) continue;
    const r = readRecordAt(buf, at);
    if (r.ok) return at;
  }
  return null;
}
