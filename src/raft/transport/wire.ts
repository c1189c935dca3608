/**
 * Byte-level primitives shared by the message codec and the frame codec. All integers are
 * big-endian. Unsigned 64-bit fields carry JavaScript numbers and are limited to
 * Number.MAX_SAFE_INTEGER so that a decoded value equals the encoded one exactly.
 *
 * Contract: ByteReader throws DecodeError (and nothing else) on any malformed input;
 * ByteWriter throws EncodeError for a value the format cannot carry exactly.
 */
import { DecodeError, EncodeError } from './errors.js';

const utf8 = new TextEncoder();
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
/** A lone surrogate cannot survive UTF-8; paired surrogates form one code point and do not match. */
const LONE_SURROGATE = /\p{Cs}/u;
const TWO_32 = 2 ** 32;

/** An append-only byte buffer that grows by doubling. */
export class ByteWriter {
  private buf: Uint8Array;
  private view: DataView;
  private len = 0;

  constructor(initialBytes = 256) {
    this.buf = new Uint8Array(initialBytes);
    this.view = new DataView(this.buf.buffer);
  }

  u8(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new EncodeError(`u8 out of range: ${v}`);
    this.reserve(1);
    this.buf[this.len++] = v;
  }

  u32(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v >= TWO_32) throw new EncodeError(`u32 out of range: ${v}`);
    this.reserve(4);
    this.view.setUint32(this.len, v);
    this.len += 4;
  }

  /** A non-negative safe integer as an unsigned 64-bit value. */
  u64(v: number, field: string): void {
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new EncodeError(`${field} must be a non-negative safe integer, got ${String(v)}`);
    }
    this.reserve(8);
    this.view.setUint32(this.len, Math.floor(v / TWO_32));
    this.view.setUint32(this.len + 4, v % TWO_32);
    this.len += 8;
  }

  bool(v: boolean): void {
    this.u8(v ? 1 : 0);
  }

  /** u32 length, then the raw bytes. */
  bytes(v: Uint8Array): void {
    this.u32(v.byteLength);
    this.reserve(v.byteLength);
    this.buf.set(v, this.len);
    this.len += v.byteLength;
  }

  /** UTF-8 bytes with a u32 length; `maxBytes` is enforced here as the reader enforces it. */
  str(v: string, field: string, maxBytes: number): void {
    if (LONE_SURROGATE.test(v)) throw new EncodeError(`${field} contains a lone UTF-16 surrogate`);
    const b = utf8.encode(v);
    if (b.byteLength > maxBytes) throw new EncodeError(`${field} is ${b.byteLength} bytes, over the ${maxBytes}-byte limit`);
    this.bytes(b);
  }

  /** A presence flag (0 absent, 1 present), then the string when present. */
  optStr(v: string | null, field: string, maxBytes: number): void {
    this.u8(v === null ? 0 : 1);
    if (v !== null) this.str(v, field, maxBytes);
  }

  /** The bytes written so far (a view, not a copy). */
  finish(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.byteLength) return;
    let size = Math.max(this.buf.byteLength * 2, 16);
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
}

/** A cursor over untrusted bytes; every read checks bounds and ranges. */
export class ByteReader {
  private pos = 0;
  private readonly view: DataView;

  constructor(private readonly buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.buf.byteLength - this.pos;
  }

  u8(field: string): number {
    this.need(1, field);
    return this.view.getUint8(this.pos++);
  }

  u32(field: string): number {
    this.need(4, field);
    const v = this.view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  u64(field: string): number {
    this.need(8, field);
    const hi = this.view.getUint32(this.pos);
    const lo = this.view.getUint32(this.pos + 4);
    this.pos += 8;
    const v = hi * TWO_32 + lo;
    if (!Number.isSafeInteger(v)) throw new DecodeError(`${field} ${hi}:${lo} exceeds the largest safe integer`);
    return v;
  }

  bool(field: string): boolean {
    const v = this.u8(field);
    if (v > 1) throw new DecodeError(`${field} must be 0 or 1, got ${v}`);
    return v === 1;
  }

  /** A copy of the next length-prefixed bytes, so the result does not pin the frame buffer. */
  bytes(field: string, maxBytes = Infinity): Uint8Array {
    const n = this.u32(`${field} length`);
    if (n > maxBytes) throw new DecodeError(`${field} is ${n} bytes, over the ${maxBytes}-byte limit`);
    this.need(n, field);
    // A fresh Uint8Array (not Buffer#slice, which is a view and would keep the frame alive).
    const out = new Uint8Array(n);
    out.set(this.buf.subarray(this.pos, this.pos + n));
    this.pos += n;
    return out;
  }

  str(field: string, maxBytes: number): string {
    const n = this.u32(`${field} length`);
    if (n > maxBytes) throw new DecodeError(`${field} is ${n} bytes, over the ${maxBytes}-byte limit`);
    this.need(n, field);
    const raw = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    try {
      return strictUtf8.decode(raw);
    } catch {
      throw new DecodeError(`${field} is not valid UTF-8`);
    }
  }

  optStr(field: string, maxBytes: number): string | null {
    const flag = this.u8(`${field} presence flag`);
    if (flag === 0) return null;
    if (flag !== 1) throw new DecodeError(`${field} presence flag must be 0 or 1, got ${flag}`);
    return this.str(field, maxBytes);
  }

  /** Throws unless every byte was consumed: trailing bytes mean a corrupt or foreign payload. */
  end(what: string): void {
    if (this.remaining !== 0) throw new DecodeError(`${what} has ${this.remaining} unexpected trailing bytes`);
  }

  private need(n: number, field: string): void {
    if (this.remaining < n) {
      throw new DecodeError(`truncated input: ${field} needs ${n} bytes, only ${this.remaining} left`);
    }
  }
}
