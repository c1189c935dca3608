import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeCommand, encodeCommand, KvCommandError } from '../../../src/raft/kv/commands.js';
import type { KvCommand } from '../../../src/raft/kv/types.js';

describe('command encoding', () => {
  test('round-trips every command kind with the proposer clock', () => {
    const commands: KvCommand[] = [
      {
        kind: 'txn',
        compare: [{ key: '/l', target: 'create', op: '==', value: 0 }, { key: '/l', target: 'value', op: '!=', value: 'x' }, { key: '/l', target: 'exists', op: '==', value: true }],
        success: [{ kind: 'put', key: '/l', value: 'a', lease: 5 }, { kind: 'delete', key: '/d' }, { kind: 'deletePrefix', prefix: '/p/' }, { kind: 'range', key: '/l' }, { kind: 'range', prefix: '' }],
        failure: [],
      },
      { kind: 'leaseGrant', ttlMs: 30_000 },
      { kind: 'leaseGrant', id: 7, ttlMs: 30_000 },
      { kind: 'leaseKeepAlive', id: 7 },
      { kind: 'leaseRevoke', id: 7, ifRenewedIndex: 12 },
    ];
    for (const command of commands) {
      assert.deepEqual(decodeCommand(encodeCommand(command, 123.5)), { ok: true, command, proposedAtMs: 123.5 });
    }
  });

  test('encoding a malformed command throws, naming the field', () => {
    const bad = { kind: 'txn', compare: [], success: [{ kind: 'put', key: '', value: 'x' }], failure: [] } as unknown as KvCommand;
    assert.throws(() => encodeCommand(bad, 0), (err: Error) => err instanceof KvCommandError && /entry\.cmd\.success\[0\]/.test(err.message));
    assert.throws(() => encodeCommand({ kind: 'leaseGrant', ttlMs: -1 }, 0), /entry\.cmd\.ttlMs/);
    assert.throws(() => encodeCommand({ kind: 'leaseKeepAlive', id: 1 }, Number.NaN), /entry\.at/);
  });

  test('decoding never throws: garbage and wrong shapes are error values', () => {
    assert.equal(decodeCommand(Uint8Array.of(0xc3, 0x28)).ok, false);
    assert.equal(decodeCommand(new TextEncoder().encode('[]')).ok, false);
    const unknownKind = decodeCommand(new TextEncoder().encode('{"at":0,"cmd":{"kind":"compact"}}'));
    assert.ok(!unknownKind.ok && /entry\.cmd/.test(unknownKind.message), JSON.stringify(unknownKind));
    const extra = decodeCommand(new TextEncoder().encode('{"at":0,"cmd":{"kind":"leaseRevoke","id":1,"force":true}}'));
    assert.ok(!extra.ok && /force/.test(extra.message), JSON.stringify(extra));
  });
});
