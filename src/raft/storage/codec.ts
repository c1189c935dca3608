/**
 * Payload formats of the records (framing is in record.ts). All integers are little-endian;
 * indexes and terms are u64 on disk, limited to Number.MAX_SAFE_INTEGER when read. Strings are
 * u16-length-prefixed UTF-8. Entry data and snapshot data run to the end of the payload.
 */
import type { ConfState, Entry, EntryType, HardState, NodeId, Snapshot } from '../core/types.js';
import { HEADER_BYTES, MAX_PAYLOAD_BYTES, RecordKind, recordSize, sealRecord } from './record.js';

/** A payload that passed its checksum but does not decode: a format mismatch or a bug. */
export class PayloadFormatError extends Error {}

const SEGMENT_MAGIC = 'RAFTWAL1';
const SNAPSHOT_VERSION = 1;
const ENTRY_TYPES: readonly EntryType[] = ['normal', 'conf-change', 'noop'];
const TWO_32 = 2 ** 32;

/** What the snapshot file holds besides the snapshot: where the log resumes. */
export interface SnapshotFileBody {
  readonly snapshot: Snapshot;
  /** Entries <= baseIndex are compacted away; baseTerm is the term of entry baseIndex. */
  readonly baseIndex: number;
  readonly baseTerm: number;
  /** Segments numbered below this one hold nothing needed and may be deleted. */
  readonly startSeq: number;
}

export type RecordItem =
  | { readonly kind: 'segment-header'; readonly seq: number }
  | { readonly kind: 'hard-state'; readonly hardState: HardState }
  | { readonly kind: 'entry'; readonly entry: Entry }
  | { readonly kind: 'snapshot'; readonly body: SnapshotFileBody };

const strBytes = (s: string): number => 2 + Buffer.byteLength(s, 'utf8');

function payloadSize(item: RecordItem): number {
  switch (item.kind) {
    case 'segment-header': return SEGMENT_MAGIC.length + 8;
    case 'hard-state': return 8 + 8 + 1 + (item.hardState.vote === null ? 0 : strBytes(item.hardState.vote));
    case 'entry': return 8 + 8 + 1 + item.entry.data.length;
    case 'snapshot': {
      const cs = item.body.snapshot.confState;
      const names = [...cs.voters, ...cs.learners].reduce((n, s) => n + strBytes(s), 0);
      return 1 + 8 * 5 + 4 + 4 + names + item.body.snapshot.data.length;
    }
  }
}

/** Sequential writer over a preallocated buffer. */
class Cursor {
  constructor(readonly buf: Buffer, public at: number) {}
  u8(v: number): void { this.buf[this.at++] = v; }
  u32(v: number): void { this.at = this.buf.writeUInt32LE(v, this.at); }
  u64(v: number): void {
    this.at = this.buf.writeUInt32LE(v % TWO_32, this.at);
    this.at = this.buf.writeUInt32LE(Math.floor(v / TWO_32), this.at);
  }
  str(s: string): void {
    const n = this.buf.write(s, this.at + 2, 'utf8');
    if (n > 0xffff) throw new RangeError(`node id of ${n} bytes is too long to store (at most 65535)`);
    this.buf.writeUInt16LE(n, this.at);
    this.at += 2 + n;
  }
  bytes(b: Uint8Array): void { this.buf.set(b, this.at); this.at += b.length; }
}

function writePayload(c: Cursor, item: RecordItem): void {
  switch (item.kind) {
    case 'segment-header':
      c.at += c.buf.write(SEGMENT_MAGIC, c.at, 'latin1');
      c.u64(item.seq);
      return;
    case 'hard-state': {
      const hs = item.hardState;
      c.u64(hs.term); c.u64(hs.commit);
      c.u8(hs.vote === null ? 0 : 1);
      if (hs.vote !== null) c.str(hs.vote);
      return;
    }
    case 'entry': {
      const e = item.entry;
      const code = ENTRY_TYPES.indexOf(e.type);
      if (code < 0) throw new RangeError(`entry ${e.index} has type ${JSON.stringify(e.type)}, expected one of ${ENTRY_TYPES.join(', ')}`);
      c.u64(e.term); c.u64(e.index); c.u8(code); c.bytes(e.data);
      return;
    }
    case 'snapshot': {
      const { snapshot: s, baseIndex, baseTerm, startSeq } = item.body;
      c.u8(SNAPSHOT_VERSION);
      for (const v of [startSeq, baseIndex, baseTerm, s.index, s.term]) c.u64(v);
      for (const ids of [s.confState.voters, s.confState.learners]) {
        c.u32(ids.length);
        for (const id of ids) c.str(id);
      }
      c.bytes(s.data);
      return;
    }
  }
}

const KIND_OF: Record<RecordItem['kind'], RecordKind> = {
  'segment-header': RecordKind.segmentHeader,
  'hard-state': RecordKind.hardState,
  entry: RecordKind.entry,
  snapshot: RecordKind.snapshot,
};

/**
 * Encodes `items` as one write batch: a single buffer whose first record carries the
 * batch-start mark. Throws RangeError for what could not be read back (a record over the size
 * limit, an unknown entry type, an over-long node id); callers encode before writing anything.
 */
export function encodeBatch(items: readonly RecordItem[]): Buffer {
  const sizes = items.map(payloadSize);
  sizes.forEach((size, i) => {
    if (size > MAX_PAYLOAD_BYTES) throw new RangeError(`${items[i]?.kind} record of ${size} bytes exceeds the ${MAX_PAYLOAD_BYTES}-byte limit`);
  });
  const out = Buffer.allocUnsafe(sizes.reduce((n, s) => n + recordSize(s), 0));
  let at = 0;
  items.forEach((item, i) => {
    const size = sizes[i] ?? 0;
    const c = new Cursor(out, at + HEADER_BYTES);
    writePayload(c, item);
    if (c.at !== at + HEADER_BYTES + size) throw new Error(`encoder wrote ${c.at - at - HEADER_BYTES} bytes for a ${size}-byte ${item.kind}`);
    at = sealRecord(out, at, KIND_OF[item.kind], size, i === 0);
  });
  return out;
}

/** Sequential reader; every overrun or out-of-range value is a PayloadFormatError. */
class Reader {
  private at = 0;
  constructor(private readonly buf: Buffer, private readonly what: string) {}
  private need(n: number): void {
    if (this.at + n > this.buf.length) throw new PayloadFormatError(`${this.what} payload ends early (needs ${n} bytes at ${this.at} of ${this.buf.length})`);
  }
  u8(): number { this.need(1); return this.buf[this.at++] ?? 0; }
  u32(): number { this.need(4); const v = this.buf.readUInt32LE(this.at); this.at += 4; return v; }
  u64(): number {
    this.need(8);
    const lo = this.buf.readUInt32LE(this.at);
    const hi = this.buf.readUInt32LE(this.at + 4);
    this.at += 8;
    const v = hi * TWO_32 + lo;
    if (!Number.isSafeInteger(v)) throw new PayloadFormatError(`${this.what} holds an integer beyond 2^53`);
    return v;
  }
  str(): string { const n = this.buf.readUInt16LE((this.need(2), this.at)); this.at += 2; this.need(n); const s = this.buf.toString('utf8', this.at, this.at + n); this.at += n; return s; }
  latin1(n: number): string { this.need(n); const s = this.buf.toString('latin1', this.at, this.at + n); this.at += n; return s; }
  /** A copy of the rest, so the (large) file buffer can be freed. */
  rest(): Uint8Array { const r = new Uint8Array(this.buf.length - this.at); r.set(this.buf.subarray(this.at)); this.at = this.buf.length; return r; }
  end(): void { if (this.at !== this.buf.length) throw new PayloadFormatError(`${this.what} payload has ${this.buf.length - this.at} trailing bytes`); }
}

export function decodeSegmentHeader(payload: Buffer): { seq: number } {
  const r = new Reader(payload, 'segment header');
  const magic = r.latin1(SEGMENT_MAGIC.length);
  if (magic !== SEGMENT_MAGIC) throw new PayloadFormatError(`segment header magic is ${JSON.stringify(magic)}, expected ${SEGMENT_MAGIC}`);
  const seq = r.u64();
  r.end();
  return { seq };
}

export function decodeHardState(payload: Buffer): HardState {
  const r = new Reader(payload, 'hard state');
  const term = r.u64();
  const commit = r.u64();
  const hasVote = r.u8();
  if (hasVote > 1) throw new PayloadFormatError(`hard state vote flag is ${hasVote}, expected 0 or 1`);
  const vote: NodeId | null = hasVote === 1 ? r.str() : null;
  r.end();
  return { term, vote, commit };
}

export function decodeEntry(payload: Buffer): Entry {
  const r = new Reader(payload, 'entry');
  const term = r.u64();
  const index = r.u64();
  const code = r.u8();
  const type = ENTRY_TYPES[code];
  if (type === undefined) throw new PayloadFormatError(`entry ${index} has type code ${code}, expected 0..${ENTRY_TYPES.length - 1}`);
  return { term, index, type, data: r.rest() };
}

export function decodeSnapshotBody(payload: Buffer): SnapshotFileBody {
  const r = new Reader(payload, 'snapshot');
  const version = r.u8();
  if (version !== SNAPSHOT_VERSION) throw new PayloadFormatError(`snapshot format version ${version}, expected ${SNAPSHOT_VERSION}`);
  const [startSeq, baseIndex, baseTerm, index, term] = [r.u64(), r.u64(), r.u64(), r.u64(), r.u64()] as const;
  const ids = (): NodeId[] => {
    const n = r.u32();
    // Each id takes at least its 2-byte length: a larger count cannot fit and would only allocate.
    if (n > payload.length / 2) throw new PayloadFormatError(`snapshot lists ${n} members in a ${payload.length}-byte payload`);
    return Array.from({ length: n }, () => r.str());
  };
  const confState: ConfState = { voters: ids(), learners: ids() };
  return { startSeq, baseIndex, baseTerm, snapshot: { index, term, confState, data: r.rest() } };
}
