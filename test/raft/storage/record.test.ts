/** CRC-32C and the record framing: checksums, batch marks, and how damage is classified. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { encodeBatch, decodeEntry, decodeHardState, decodeSnapshotBody, type RecordItem } from '../../../src/raft/storage/codec.js';
import { crc32c } from '../../../src/raft/storage/crc32c.js';
import { HEADER_BYTES, RecordKind, scanRecords } from '../../../src/raft/storage/record.js';
import { ents, flipBit } from './helpers.js';

const ascii = (s: string) => new TextEncoder().encode(s);

describe('crc32c', () => {
  test('matches the published check value and test vectors', () => {
    assert.equal(crc32c(ascii('123456789')), 0xe3069283);
    assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
    assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43); // RFC 3720 B.4: 32 bytes of 0xFF
    assert.equal(crc32c(new Uint8Array(0)), 0);
  });

  test('continues over split ranges', () => {
    const b = ascii('the quick brown fox jumps over the lazy dog');
    assert.equal(crc32c(b, 10, b.length, crc32c(b, 0, 10)), crc32c(b));
  });
});

const items = (): RecordItem[] => [
  ...ents(1, 2, 3).map((entry): RecordItem => ({ kind: 'entry', entry })),
  { kind: 'hard-state', hardState: { term: 3, vote: 'nöde-β', commit: 2 } },
];

describe('record framing', () => {
  test('a batch round-trips, and only its first record carries the batch mark', () => {
    const { records, damage } = scanRecords(encodeBatch(items()));
    assert.equal(damage, null);
    assert.deepEqual(records.map((r) => [r.kind, r.batchStart]), [[RecordKind.entry, true], [RecordKind.entry, false], [RecordKind.hardState, false]]);
    assert.deepEqual(decodeEntry(records[1]!.payload), ents(2, 2, 3)[0]);
    assert.deepEqual(decodeHardState(records[2]!.payload), { term: 3, vote: 'nöde-β', commit: 2 });
  });

  test('indexes and terms beyond 32 bits survive; entry types and empty data too', () => {
    const big = { index: 2 ** 40 + 7, term: 2 ** 33 + 1, type: 'conf-change' as const, data: new Uint8Array(0) };
    const { records } = scanRecords(encodeBatch([{ kind: 'entry', entry: big }, { kind: 'entry', entry: { ...big, index: big.index + 1, type: 'noop' } }]));
    assert.deepEqual(records.map((r) => decodeEntry(r.payload)), [big, { ...big, index: big.index + 1, type: 'noop' }]);
  });

  test('the snapshot body round-trips', () => {
    const body = { startSeq: 4, baseIndex: 90, baseTerm: 2, snapshot: { index: 100, term: 3, confState: { voters: ['a', 'b'], learners: ['c'] }, data: ascii('image') } };
    const { records } = scanRecords(encodeBatch([{ kind: 'snapshot', body }]));
    assert.deepEqual(decodeSnapshotBody(records[0]!.payload), body);
  });

  test('damage followed by nothing is a torn tail', () => {
    const good = encodeBatch(items());
    const torn = Buffer.concat([good, encodeBatch(items()).subarray(0, 20)]);
    const { records, damage } = scanRecords(torn);
    assert.equal(records.length, 3);
    assert.equal(damage?.offset, good.length);
    assert.match(damage?.reason ?? '', /truncated payload/);
    assert.equal(damage?.laterBatchAt, null);
  });

  test('damage followed only by the rest of its own batch is still a torn tail', () => {
    const batch = encodeBatch(items());
    flipBit(batch, HEADER_BYTES + 3); // inside the first record's payload
    const { records, damage } = scanRecords(batch);
    assert.equal(records.length, 0);
    assert.deepEqual(damage, { offset: 0, reason: 'checksum mismatch', laterBatchAt: null });
  });

  test('damage followed by an intact later batch is reported with that batch offset', () => {
    const first = encodeBatch(items());
    const buf = Buffer.concat([first, encodeBatch(items())]);
    flipBit(buf, HEADER_BYTES + 3);
    const { damage } = scanRecords(buf);
    assert.equal(damage?.offset, 0);
    assert.equal(damage?.laterBatchAt, first.length);
  });

  test('a damaged length field is caught by the checksum', () => {
    const buf = Buffer.concat([encodeBatch(items()), encodeBatch(items())]);
    buf.writeUInt32LE(buf.readUInt32LE(0) - 1, 0); // shorter, still inside the file
    const { damage } = scanRecords(buf);
    assert.equal(damage?.offset, 0);
    assert.equal(damage?.reason, 'checksum mismatch');
    assert.notEqual(damage?.laterBatchAt, null);
  });

  test('a zero-filled tail (preallocated space) ends the records without damage', () => {
    const good = encodeBatch(items());
    const { records, damage, end } = scanRecords(Buffer.concat([good, Buffer.alloc(4096)]));
    assert.equal(records.length, 3);
    assert.equal(damage, null);
    assert.equal(end, good.length);
  });

  test('zeros followed by anything else are damage (a torn write into preallocated space)', () => {
    const good = encodeBatch(items());
    const tail = Buffer.alloc(4096);
    tail[2000] = 1;
    const { records, damage, end } = scanRecords(Buffer.concat([good, tail]));
    assert.equal(records.length, 3);
    assert.equal(damage?.offset, good.length);
    assert.equal(damage?.laterBatchAt, null);
    assert.equal(end, good.length);
  });
});
