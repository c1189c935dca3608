/**
 * Framing on a transport connection: `[length u32 BE][type u8][payload]`, where `length` counts
 * the payload bytes only (not the type byte). Every frame type's payload has a strict layout;
 * anything else is a DecodeError, which the transport answers by closing that one connection.
 *
 * Contract of FrameDecoder: feeding it a byte stream in chunks of any sizes yields exactly the
 * frames that were encoded into it, in order; a header announcing more than `maxFrameBytes` or an
 * unknown type is rejected as soon as the 5 header bytes are in, before any payload is buffered.
 */
import type { Message, NodeId } from '../core/types.js';
import { decodeMessage, encodeMessage, MAX_NODE_ID_BYTES } from './codec.js';
import { DecodeError, EncodeError } from './errors.js';
import { ByteReader, ByteWriter } from './wire.js';

/** Version carried in the hello; a peer speaking another version is refused. */
export const PROTOCOL_VERSION = 1;
export const HEADER_BYTES = 5;
/** Default largest payload: room for a 64 MiB snapshot plus its message envelope. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024 * 1024 + 64 * 1024;
/** Longest cluster token, reject reason or remote error message carried on the wire. */
export const MAX_TEXT_BYTES = 4096;

export const FrameType = {
  hello: 1,
  helloAck: 2,
  reject: 3,
  raft: 4,
  request: 5,
  response: 6,
  responseError: 7,
} as const;
const KNOWN_TYPES = new Set<number>(Object.values(FrameType));

/** A frame as it travels, after its header was checked and before its payload was decoded. */
export interface RawFrame {
  readonly type: number;
  readonly payload: Uint8Array;
}

/** A decoded frame. `token` is the cluster token: compare it, never log it. */
export type Frame =
  | { readonly kind: 'hello'; readonly version: number; readonly from: NodeId; readonly to: NodeId; readonly token: string | null }
  | { readonly kind: 'hello-ack'; readonly node: NodeId }
  | { readonly kind: 'reject'; readonly reason: string }
  | { readonly kind: 'raft'; readonly message: Message }
  | { readonly kind: 'request'; readonly id: number; readonly payload: Uint8Array }
  | { readonly kind: 'response'; readonly id: number; readonly payload: Uint8Array }
  | { readonly kind: 'response-error'; readonly id: number; readonly message: string };

/** Encodes a frame with its header; throws EncodeError for values the format cannot carry. */
export function encodeFrame(frame: Frame): Uint8Array {
  const [type, payload] = encodePayload(frame);
  const out = new Uint8Array(HEADER_BYTES + payload.byteLength);
  new DataView(out.buffer).setUint32(0, payload.byteLength);
  out[4] = type;
  out.set(payload, HEADER_BYTES);
  return out;
}

function encodePayload(f: Frame): [number, Uint8Array] {
  if (f.kind === 'raft') return [FrameType.raft, encodeMessage(f.message)];
  const w = new ByteWriter();
  switch (f.kind) {
    case 'hello':
      w.u8(f.version);
      w.str(f.from, 'hello from', MAX_NODE_ID_BYTES);
      w.str(f.to, 'hello to', MAX_NODE_ID_BYTES);
      w.optStr(f.token, 'cluster token', MAX_TEXT_BYTES);
      return [FrameType.hello, w.finish()];
    case 'hello-ack':
      w.str(f.node, 'hello-ack node', MAX_NODE_ID_BYTES);
      return [FrameType.helloAck, w.finish()];
    case 'reject':
      w.str(truncateText(f.reason), 'reject reason', MAX_TEXT_BYTES);
      return [FrameType.reject, w.finish()];
    case 'request':
    case 'response':
      w.u64(f.id, `${f.kind} id`);
      w.bytes(f.payload);
      return [f.kind === 'request' ? FrameType.request : FrameType.response, w.finish()];
    case 'response-error':
      w.u64(f.id, 'response id');
      w.str(truncateText(f.message), 'remote error message', MAX_TEXT_BYTES);
      return [FrameType.responseError, w.finish()];
    default:
      throw new EncodeError(`unknown frame kind ${JSON.stringify((f as { kind: unknown }).kind)}`);
  }
}

/** Makes free text sendable: cut to the wire limit (counting UTF-16 units keeps it under 3x that in UTF-8). */
function truncateText(text: string): string {
  // A lone surrogate cannot be encoded as UTF-8; free text is replaced, never refused.
  const s = text.replace(/\p{Cs}/gu, '\uFFFD');
  const limit = Math.floor(MAX_TEXT_BYTES / 3);
  if (s.length <= limit) return s;
  // Do not split a surrogate pair: a lone half cannot be encoded.
  const cut = /[\uD800-\uDBFF]/.test(s.charAt(limit - 1)) ? limit - 1 : limit;
  return s.slice(0, cut);
}

/** Decodes a raw frame's payload; throws DecodeError (only) when it does not match its type. */
export function decodeFrame(raw: RawFrame): Frame {
  if (raw.type === FrameType.raft) return { kind: 'raft', message: decodeMessage(raw.payload) };
  try {
    const r = new ByteReader(raw.payload);
    const frame = readControl(raw.type, r);
    r.end(`${frame.kind} frame`);
    return frame;
  } catch (err) {
    if (err instanceof DecodeError) throw err;
    throw new DecodeError(`undecodable frame: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

function readControl(type: number, r: ByteReader): Frame {
  switch (type) {
    case FrameType.hello: {
      const version = r.u8('hello version');
      const from = r.str('hello from', MAX_NODE_ID_BYTES);
      const to = r.str('hello to', MAX_NODE_ID_BYTES);
      if (from.length === 0 || to.length === 0) throw new DecodeError('hello must name non-empty node ids');
      return { kind: 'hello', version, from, to, token: r.optStr('cluster token', MAX_TEXT_BYTES) };
    }
    case FrameType.helloAck: {
      const node = r.str('hello-ack node', MAX_NODE_ID_BYTES);
      if (node.length === 0) throw new DecodeError('hello-ack must name a non-empty node id');
      return { kind: 'hello-ack', node };
    }
    case FrameType.reject:
      return { kind: 'reject', reason: r.str('reject reason', MAX_TEXT_BYTES) };
    case FrameType.request:
    case FrameType.response: {
      const id = r.u64('request id');
      const payload = r.bytes('request payload');
      return type === FrameType.request ? { kind: 'request', id, payload } : { kind: 'response', id, payload };
    }
    case FrameType.responseError: {
      const id = r.u64('request id');
      return { kind: 'response-error', id, message: r.str('remote error message', MAX_TEXT_BYTES) };
    }
    default:
      throw new DecodeError(`unknown frame type ${type}`);
  }
}

/**
 * Splits a byte stream into raw frames. Chunks are kept as a list and joined once per frame, so
 * a large snapshot arriving in many small chunks costs one copy, not one per chunk.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Header of the frame being assembled, once its 5 bytes are in. */
  private pending: { type: number; length: number } | null = null;

  constructor(private readonly maxFrameBytes: number = DEFAULT_MAX_FRAME_BYTES) {}

  /** Bytes received but not yet returned as frames. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Adds a chunk and returns every frame it completes; throws DecodeError on a bad header. */
  push(chunk: Buffer): RawFrame[] {
    if (chunk.byteLength > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.byteLength;
    }
    const out: RawFrame[] = [];
    for (;;) {
      if (this.pending === null) {
        if (this.buffered < HEADER_BYTES) return out;
        const head = this.take(HEADER_BYTES);
        const length = head.readUInt32BE(0);
        const type = head.readUInt8(4);
        if (length > this.maxFrameBytes) {
          throw new DecodeError(`frame of ${length} bytes exceeds the ${this.maxFrameBytes}-byte limit`);
        }
        if (!KNOWN_TYPES.has(type)) throw new DecodeError(`unknown frame type ${type}`);
        this.pending = { type, length };
      }
      if (this.buffered < this.pending.length) return out;
      const payload = this.take(this.pending.length);
      out.push({ type: this.pending.type, payload });
      this.pending = null;
    }
  }

  /** Removes and returns the first `n` buffered bytes (n <= buffered). */
  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    const head = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.byteLength > 0 ? [rest] : [];
    this.buffered -= n;
    return head;
  }
}
