/**
 * Binary codec for the Raft core's wire messages (core/types.ts `Message`).
 *
 * Contract: `decodeMessage(encodeMessage(m))` deep-equals `m` for every valid message, including
 * entry and snapshot bytes. `decodeMessage` treats its input as untrusted: it validates every
 * field (type tags, integer ranges, booleans, UTF-8, string and byte lengths, entry order, no
 * trailing bytes) and throws DecodeError and nothing else.
 *
 * Layout: [tag u8][from str][to str][term u64] then the type's own fields in declaration order.
 * Strings are u32 length + UTF-8; byte arrays u32 length + raw; integers big-endian.
 */
import type {
  ConfState, Entry, EntryType, Message, MessageType, NodeId, Snapshot,
} from '../core/types.js';
import { DecodeError, EncodeError, TransportError } from './errors.js';
import { ByteReader, ByteWriter } from './wire.js';

/** Longest NodeId accepted on the wire, in UTF-8 bytes. */
export const MAX_NODE_ID_BYTES = 1024;
/** Longest read-index context accepted on the wire, in UTF-8 bytes. */
export const MAX_CTX_BYTES = 64 * 1024;

const TAGS: Readonly<Record<MessageType, number>> = {
  append: 1,
  'append-resp': 2,
  heartbeat: 3,
  'heartbeat-resp': 4,
  vote: 5,
  'pre-vote': 6,
  'vote-resp': 7,
  'pre-vote-resp': 8,
  snapshot: 9,
  'timeout-now': 10,
  'read-index': 11,
  'read-index-resp': 12,
  'transfer-leader': 13,
  removed: 14,
};
const TYPE_BY_TAG = new Map<number, MessageType>(
  Object.entries(TAGS).map(([type, tag]) => [tag, type as MessageType]),
);
const ENTRY_TYPES: readonly EntryType[] = ['normal', 'conf-change', 'noop'];

/** Encodes `msg`; throws EncodeError for a value the format cannot carry exactly. */
export function encodeMessage(msg: Message): Uint8Array {
  const w = new ByteWriter(msg.type === 'snapshot' ? msg.snapshot.data.byteLength + 256 : 128);
  w.u8(TAGS[msg.type]);
  writeNodeId(w, msg.from, 'from');
  writeNodeId(w, msg.to, 'to');
  w.u64(msg.term, 'term');
  switch (msg.type) {
    case 'append':
      w.u64(msg.index, 'index');
      w.u64(msg.logTerm, 'logTerm');
      w.u64(msg.commit, 'commit');
      w.u32(msg.entries.length);
      for (const e of msg.entries) writeEntry(w, e);
      break;
    case 'append-resp':
      w.u64(msg.index, 'index');
      w.bool(msg.reject);
      w.u64(msg.hintTerm, 'hintTerm');
      w.u64(msg.hintIndex, 'hintIndex');
      break;
    case 'heartbeat':
      w.u64(msg.commit, 'commit');
      w.optStr(msg.ctx, 'ctx', MAX_CTX_BYTES);
      break;
    case 'heartbeat-resp':
      w.optStr(msg.ctx, 'ctx', MAX_CTX_BYTES);
      break;
    case 'vote':
    case 'pre-vote':
      w.u64(msg.lastIndex, 'lastIndex');
      w.u64(msg.lastTerm, 'lastTerm');
      w.bool(msg.transfer);
      break;
    case 'vote-resp':
    case 'pre-vote-resp':
      w.bool(msg.reject);
      break;
    case 'snapshot':
      writeSnapshot(w, msg.snapshot);
      break;
    case 'timeout-now':
      break;
    case 'read-index':
      w.str(msg.ctx, 'ctx', MAX_CTX_BYTES);
      break;
    case 'read-index-resp':
      w.str(msg.ctx, 'ctx', MAX_CTX_BYTES);
      w.u64(msg.index, 'index');
      break;
    case 'transfer-leader':
      writeNodeId(w, msg.target, 'target');
      break;
    case 'removed':
      w.u64(msg.confIndex, 'confIndex');
      break;
    default:
      throw new EncodeError(`unknown message type ${JSON.stringify((msg as { type: unknown }).type)}`);
  }
  return w.finish();
}

/** Decodes one message from untrusted bytes; throws DecodeError (only) when they are not one. */
export function decodeMessage(bytes: Uint8Array): Message {
  try {
    const r = new ByteReader(bytes);
    const msg = readMessage(r);
    r.end(`${msg.type} message`);
    return msg;
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    // Defence in depth: the contract is "DecodeError and nothing else", whatever went wrong.
    const detail = err instanceof TransportError || err instanceof Error ? err.message : String(err);
    throw new DecodeError(`undecodable message: ${detail}`, { cause: err });
  }
}

function readMessage(r: ByteReader): Message {
  const tag = r.u8('message type tag');
  const type = TYPE_BY_TAG.get(tag);
  if (type === undefined) throw new DecodeError(`unknown message type tag ${tag}`);
  const from = readNodeId(r, 'from');
  const to = readNodeId(r, 'to');
  const term = r.u64('term');
  const env = { from, to, term };
  switch (type) {
    case 'append': {
      const index = r.u64('index');
      const logTerm = r.u64('logTerm');
      const commit = r.u64('commit');
      const entries = readEntries(r, index, logTerm);
      return { ...env, type, index, logTerm, entries, commit };
    }
    case 'append-resp': {
      const index = r.u64('index');
      const reject = r.bool('reject');
      const hintTerm = r.u64('hintTerm');
      const hintIndex = r.u64('hintIndex');
      return { ...env, type, index, reject, hintTerm, hintIndex };
    }
    case 'heartbeat': {
      const commit = r.u64('commit');
      return { ...env, type, commit, ctx: r.optStr('ctx', MAX_CTX_BYTES) };
    }
    case 'heartbeat-resp':
      return { ...env, type, ctx: r.optStr('ctx', MAX_CTX_BYTES) };
    case 'vote':
    case 'pre-vote': {
      const lastIndex = r.u64('lastIndex');
      const lastTerm = r.u64('lastTerm');
      return { ...env, type, lastIndex, lastTerm, transfer: r.bool('transfer') };
    }
    case 'vote-resp':
    case 'pre-vote-resp':
      return { ...env, type, reject: r.bool('reject') };
    case 'snapshot':
      return { ...env, type, snapshot: readSnapshot(r) };
    case 'timeout-now':
      return { ...env, type };
    case 'read-index':
      return { ...env, type, ctx: r.str('ctx', MAX_CTX_BYTES) };
    case 'read-index-resp': {
      const ctx = r.str('ctx', MAX_CTX_BYTES);
      return { ...env, type, ctx, index: r.u64('index') };
    }
    case 'transfer-leader':
      return { ...env, type, target: readNodeId(r, 'target') };
    case 'removed':
      return { ...env, type, confIndex: r.u64('confIndex') };
  }
}

function readNodeId(r: ByteReader, field: string): NodeId {
  const id = r.str(field, MAX_NODE_ID_BYTES);
  if (id.length === 0) throw new DecodeError(`${field} must be a non-empty node id`);
  return id;
}

function writeNodeId(w: ByteWriter, id: NodeId, field: string): void {
  if (id.length === 0) throw new EncodeError(`${field} must be a non-empty node id`);
  w.str(id, field, MAX_NODE_ID_BYTES);
}

function writeEntry(w: ByteWriter, e: Entry): void {
  w.u64(e.term, 'entry term');
  w.u64(e.index, 'entry index');
  const t = ENTRY_TYPES.indexOf(e.type);
  if (t < 0) throw new EncodeError(`unknown entry type ${JSON.stringify(e.type)}`);
  w.u8(t);
  w.bytes(e.data);
}

/**
 * Entries of an append follow (prevIndex, prevTerm) contiguously with non-decreasing terms, as
 * the Log Matching property guarantees (Raft §5.3); anything else is corrupt or hostile input
 * that must not reach the core.
 */
function readEntries(r: ByteReader, prevIndex: number, prevTerm: number): Entry[] {
  const count = r.u32('entry count');
  const entries: Entry[] = [];
  let lastTerm = prevTerm;
  for (let i = 0; i < count; i++) {
    const term = r.u64('entry term');
    const index = r.u64('entry index');
    if (index !== prevIndex + 1 + i) {
      throw new DecodeError(`entry ${i} has index ${index}, expected ${prevIndex + 1 + i}`);
    }
    if (term < lastTerm) throw new DecodeError(`entry ${index} has term ${term}, below the preceding term ${lastTerm}`);
    lastTerm = term;
    const t = r.u8('entry type');
    const type = ENTRY_TYPES[t];
    if (type === undefined) throw new DecodeError(`entry ${index} has unknown type tag ${t}`);
    entries.push({ term, index, type, data: r.bytes('entry data') });
  }
  return entries;
}

function writeSnapshot(w: ByteWriter, s: Snapshot): void {
  w.u64(s.index, 'snapshot index');
  w.u64(s.term, 'snapshot term');
  writeIds(w, s.confState.voters, 'voter');
  writeIds(w, s.confState.learners, 'learner');
  w.bytes(s.data);
}

function readSnapshot(r: ByteReader): Snapshot {
  const index = r.u64('snapshot index');
  const term = r.u64('snapshot term');
  const voters = readIds(r, 'voter');
  const learners = readIds(r, 'learner');
  const confState: ConfState = { voters, learners };
  return { index, term, confState, data: r.bytes('snapshot data') };
}

function writeIds(w: ByteWriter, ids: readonly NodeId[], field: string): void {
  w.u32(ids.length);
  for (const id of ids) writeNodeId(w, id, field);
}

function readIds(r: ByteReader, field: string): NodeId[] {
  const count = r.u32(`${field} count`);
  const ids: NodeId[] = [];
  // No pre-allocation from `count`: a hostile count runs out of bytes long before memory.
  for (let i = 0; i < count; i++) ids.push(readNodeId(r, field));
  return ids;
}
