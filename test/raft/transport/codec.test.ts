import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { Message } from '../../../src/raft/core/types.js';
import { DecodeError, EncodeError, decodeMessage, encodeMessage } from '../../../src/raft/transport/index.js';
import { arbMessage, everyMessageType } from './support.js';

/** Runs `fn` and returns what it threw (or 'ok' when it returned). */
function outcome(fn: () => unknown): unknown {
  try {
    fn();
    return 'ok';
  } catch (err) {
    return err;
  }
}

describe('message codec', () => {
  test('every generated message survives encode then decode exactly', () => {
    fc.assert(
      fc.property(arbMessage, (msg) => {
        assert.deepStrictEqual(decodeMessage(encodeMessage(msg)), msg);
      }),
      { numRuns: 2000 },
    );
  });

  test('a sample of each of the 14 message types round-trips, snapshot bytes included', () => {
    const all = everyMessageType('a', 'b', 100_000);
    assert.equal(new Set(all.map((m) => m.type)).size, 14);
    for (const m of all) assert.deepStrictEqual(decodeMessage(encodeMessage(m)), m);
  });

  test('decoding random bytes either yields a message or throws DecodeError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        const r = outcome(() => decodeMessage(bytes));
        assert.ok(r === 'ok' || r instanceof DecodeError, `unexpected ${String(r)}`);
      }),
      { numRuns: 3000 },
    );
  });

  test('every truncation of a valid encoding throws DecodeError', () => {
    fc.assert(
      fc.property(arbMessage, fc.nat(), (msg, cut) => {
        const bytes = encodeMessage(msg);
        const at = cut % bytes.byteLength;
        assert.ok(outcome(() => decodeMessage(bytes.subarray(0, at))) instanceof DecodeError);
      }),
      { numRuns: 1000 },
    );
  });

  test('a flipped byte never escapes as anything but a message or DecodeError', () => {
    fc.assert(
      fc.property(arbMessage, fc.nat(), fc.integer({ min: 1, max: 255 }), (msg, pos, xor) => {
        const bytes = encodeMessage(msg).slice();
        const i = pos % bytes.byteLength;
        bytes[i] = bytes[i]! ^ xor;
        const r = outcome(() => decodeMessage(bytes));
        assert.ok(r === 'ok' || r instanceof DecodeError, `unexpected ${String(r)}`);
      }),
      { numRuns: 2000 },
    );
  });

  test('trailing bytes after a valid message are rejected', () => {
    const bytes = encodeMessage({ from: 'a', to: 'b', term: 1, type: 'timeout-now' });
    const longer = new Uint8Array(bytes.byteLength + 1);
    longer.set(bytes);
    assert.throws(() => decodeMessage(longer), DecodeError);
  });

  const base = { from: 'a', to: 'b', term: 3 };
  const hostile: Array<[string, (b: Uint8Array) => void, Message]> = [
    ['an unknown type tag', (b) => void (b[0] = 99), { ...base, type: 'timeout-now' }],
    ['a boolean that is neither 0 nor 1', (b) => void (b[b.length - 1] = 2), { ...base, type: 'vote-resp', reject: true }],
    ['invalid UTF-8 in a node id', (b) => void (b[5] = 0xff), { ...base, type: 'timeout-now' }],
    ['a term above the largest safe integer', (b) => b.fill(0xff, 11, 19), { ...base, type: 'timeout-now' }],
    ['an entry type tag out of range', (b) => void (b[b.length - 5] = 7),
      { ...base, type: 'append', index: 0, logTerm: 0, commit: 0, entries: [{ term: 1, index: 1, type: 'normal', data: new Uint8Array() }] }],
  ];
  for (const [name, corrupt, msg] of hostile) {
    test(`decoding rejects ${name} with DecodeError`, () => {
      const bytes = encodeMessage(msg).slice();
      corrupt(bytes);
      assert.throws(() => decodeMessage(bytes), DecodeError);
    });
  }

  test('entries that do not follow the previous index contiguously are rejected', () => {
    const gap: Message = { ...base, type: 'append', index: 4, logTerm: 1, commit: 0, entries: [
      { term: 1, index: 5, type: 'normal', data: new Uint8Array() },
      { term: 1, index: 7, type: 'normal', data: new Uint8Array() },
    ] };
    assert.throws(() => decodeMessage(encodeMessage(gap)), /entry 1 has index 7, expected 6/);
    const falling: Message = { ...base, type: 'append', index: 4, logTerm: 3, commit: 0, entries: [
      { term: 2, index: 5, type: 'normal', data: new Uint8Array() },
    ] };
    assert.throws(() => decodeMessage(encodeMessage(falling)), DecodeError);
  });

  test('a huge declared byte length fails as DecodeError without allocating it', () => {
    const bytes = encodeMessage({ ...base, type: 'snapshot', snapshot: { index: 1, term: 1, confState: { voters: [], learners: [] }, data: new Uint8Array() } }).slice();
    new DataView(bytes.buffer).setUint32(bytes.byteLength - 4, 0xffffffff);
    assert.throws(() => decodeMessage(bytes), /snapshot data needs 4294967295 bytes/);
  });

  test('values the format cannot carry exactly are refused with EncodeError naming the field', () => {
    assert.throws(() => encodeMessage({ ...base, term: 1.5, type: 'timeout-now' }), (e: unknown) => e instanceof EncodeError && /term/.test(e.message));
    assert.throws(() => encodeMessage({ ...base, term: -1, type: 'timeout-now' }), EncodeError);
    assert.throws(() => encodeMessage({ ...base, from: '', type: 'timeout-now' }), /from must be a non-empty node id/);
    assert.throws(() => encodeMessage({ ...base, type: 'read-index', ctx: 'x\uD800' }), /lone UTF-16 surrogate/);
  });
});
