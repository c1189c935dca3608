/**
 * Test helpers: drive a KvStateMachine the way the Raft driver does, through encoded entries with
 * increasing log indexes and a proposer clock the test controls.
 */
import assert from 'node:assert/strict';
import { encodeCommand } from '../../../src/raft/kv/commands.js';
import { KvStateMachine } from '../../../src/raft/kv/state-machine.js';
import type {
  Compare, KvCommand, KvErrorResult, KvResult, LeaseGrantResult, LeaseKeepAliveResult, LeaseRevokeResult, TxnOp, TxnResult,
} from '../../../src/raft/kv/types.js';

export class Driver {
  index = 0;
  /** The proposer's clock stamped into each entry. */
  nowMs = 1_000;

  constructor(public sm: KvStateMachine = new KvStateMachine()) {
    this.index = sm.appliedIndex;
  }

  run(command: KvCommand): KvResult {
    this.index += 1;
    return this.sm.apply(this.index, encodeCommand(command, this.nowMs));
  }

  txn(compare: Compare[], success: TxnOp[], failure: TxnOp[] = []): TxnResult | KvErrorResult {
    const r = this.run({ kind: 'txn', compare, success, failure });
    assert.ok(r.kind === 'txn' || r.kind === 'error', `unexpected ${r.kind}`);
    return r;
  }

  /** A txn that must not fail with an error result. */
  ok(compare: Compare[], success: TxnOp[], failure: TxnOp[] = []): TxnResult {
    const r = this.txn(compare, success, failure);
    assert.equal(r.kind, 'txn', JSON.stringify(r));
    return r as TxnResult;
  }

  put(key: string, value: string, lease?: number): TxnResult {
    return this.ok([], [lease === undefined ? { kind: 'put', key, value } : { kind: 'put', key, value, lease }]);
  }

  del(key: string): TxnResult {
    return this.ok([], [{ kind: 'delete', key }]);
  }

  grant(ttlMs: number, id?: number): LeaseGrantResult {
    const r = this.run(id === undefined ? { kind: 'leaseGrant', ttlMs } : { kind: 'leaseGrant', id, ttlMs });
    assert.equal(r.kind, 'leaseGrant', JSON.stringify(r));
    return r as LeaseGrantResult;
  }

  keepAlive(id: number): LeaseKeepAliveResult {
    const r = this.run({ kind: 'leaseKeepAlive', id });
    assert.equal(r.kind, 'leaseKeepAlive');
    return r as LeaseKeepAliveResult;
  }

  revoke(id: number, ifRenewedIndex?: number): LeaseRevokeResult {
    const r = this.run(ifRenewedIndex === undefined ? { kind: 'leaseRevoke', id } : { kind: 'leaseRevoke', id, ifRenewedIndex });
    assert.equal(r.kind, 'leaseRevoke');
    return r as LeaseRevokeResult;
  }
}

export const decodeText = (bytes: Uint8Array): string => new TextDecoder().decode(bytes);
