import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DecodeError } from '../../../src/raft/transport/index.js';
import { FrameDecoder, FrameType, decodeFrame, encodeFrame, type Frame } from '../../../src/raft/transport/frame.js';
import { BoundedQueue } from '../../../src/raft/transport/queue.js';
import { arbMessage, arbNodeId } from './support.js';

const arbFrame: fc.Arbitrary<Frame> = fc.oneof(
  fc.record({ kind: fc.constant('hello' as const), version: fc.nat(255), from: arbNodeId, to: arbNodeId, token: fc.option(fc.string({ minLength: 1 }), { nil: null }) }),
  fc.record({ kind: fc.constant('hello-ack' as const), node: arbNodeId }),
  fc.record({ kind: fc.constant('reject' as const), reason: fc.string({ maxLength: 40 }) }),
  arbMessage.map((message) => ({ kind: 'raft' as const, message })),
  fc.record({ kind: fc.constantFrom('request' as const, 'response' as const), id: fc.maxSafeNat(), payload: fc.uint8Array({ maxLength: 100 }) }),
  fc.record({ kind: fc.constant('response-error' as const), id: fc.maxSafeNat(), message: fc.string({ maxLength: 40 }) }),
).map((f) => ({ ...f })); // fc.record may build null-prototype objects; decoded frames are plain ones

/** Header of a frame with the given payload length and type. */
function header(length: number, type: number): Buffer {
  const b = Buffer.alloc(5);
  b.writeUInt32BE(length, 0);
  b.writeUInt8(type, 4);
  return b;
}

describe('framing', () => {
  test('frames split into arbitrary chunks come out whole, in order and unchanged', () => {
    fc.assert(
      fc.property(fc.array(arbFrame, { minLength: 1, maxLength: 8 }), fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1 }), (frames, sizes) => {
        const stream = Buffer.concat(frames.map((f) => encodeFrame(f)));
        const decoder = new FrameDecoder(1 << 20);
        const got: Frame[] = [];
        for (let pos = 0, i = 0; pos < stream.byteLength; i++) {
          const n = sizes[i % sizes.length]!;
          for (const raw of decoder.push(stream.subarray(pos, pos + n))) got.push(decodeFrame(raw));
          pos += n;
        }
        assert.deepStrictEqual(got, frames);
        assert.equal(decoder.bufferedBytes, 0);
      }),
      { numRuns: 300 },
    );
  });

  test('a header announcing more than the limit is refused before any payload arrives', () => {
    const decoder = new FrameDecoder(1024);
    const big = header(1025, FrameType.request);
    assert.deepEqual(decoder.push(big.subarray(0, 3)), []);
    assert.throws(() => decoder.push(big.subarray(3)), /1025 bytes exceeds the 1024-byte limit/);
  });

  test('a frame of exactly the limit is accepted', () => {
    const decoder = new FrameDecoder(16);
    const frames = decoder.push(Buffer.concat([header(16, FrameType.reject), Buffer.alloc(16)]));
    assert.equal(frames.length, 1);
  });

  test('an unknown frame type is refused as soon as its header is in', () => {
    for (const type of [0, 8, 200, 255]) {
      assert.throws(() => new FrameDecoder().push(header(0, type)), (e: unknown) => e instanceof DecodeError && /unknown frame type/.test(e.message));
    }
  });

  test('control payloads that do not match their type throw DecodeError only', () => {
    fc.assert(
      fc.property(fc.constantFrom(...Object.values(FrameType)), fc.uint8Array({ maxLength: 40 }), (type, payload) => {
        try {
          decodeFrame({ type, payload });
        } catch (err) {
          assert.ok(err instanceof DecodeError, `unexpected ${String(err)}`);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test('free text is made sendable: cut to the limit and lone surrogates replaced', () => {
    const long = '\u{1F600}'.repeat(5000);
    const f = decodeFrame(new FrameDecoder().push(Buffer.from(encodeFrame({ kind: 'response-error', id: 1, message: long })))[0]!);
    assert.equal(f.kind, 'response-error');
    assert.ok(f.kind === 'response-error' && f.message.length < 2000 && f.message.startsWith('\u{1F600}'));
    const odd = decodeFrame(new FrameDecoder().push(Buffer.from(encodeFrame({ kind: 'reject', reason: 'a\uDC00b' })))[0]!);
    assert.deepEqual(odd, { kind: 'reject', reason: 'a\uFFFDb' });
  });
});

describe('bounded queue', () => {
  test('never holds more than its item and byte bounds, drops the oldest, and counts every drop', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 200 }), fc.array(fc.nat(60), { maxLength: 100 }), (maxItems, maxBytes, sizes) => {
        const q = new BoundedQueue(maxItems, maxBytes);
        let dropCallbacks = 0;
        sizes.forEach((size, i) => {
          q.push({ bytes: new Uint8Array(size).fill(i & 0xff), onDrop: () => dropCallbacks++ });
          assert.ok(q.length <= maxItems && q.bytes <= maxBytes);
        });
        assert.equal(q.drops, dropCallbacks);
        assert.equal(q.length + q.drops, sizes.length);
        // What is left is the newest suffix, in order.
        const left: number[] = [];
        for (let f = q.shift(); f !== undefined; f = q.shift()) left.push(f.bytes.byteLength);
        const keptSizes = sizes.filter((s) => s <= maxBytes);
        assert.deepEqual(left, keptSizes.slice(keptSizes.length - left.length));
      }),
      { numRuns: 500 },
    );
  });
});
