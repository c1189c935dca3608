import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeCommand } from '../../../src/raft/kv/commands.js';
import { KvSnapshotError } from '../../../src/raft/kv/snapshot.js';
import { KvStateMachine } from '../../../src/raft/kv/state-machine.js';
import type { AppliedChange, Compare, KvCommand, KvResult, TxnOp } from '../../../src/raft/kv/types.js';
import { decodeText, Driver } from './support.js';

describe('snapshot and restore', () => {
  test('round-trips keys, leases with their deadlines, revision and applied index', () => {
    const d = new Driver();
    d.nowMs = 7_000;
    const lease = d.grant(30_000).id;
    d.put('/s/leader', 'a', lease);
    d.put('/s/config', '{"ttl":30}');
    d.put('/s/config', '{"ttl":20}');
    const bytes = d.sm.snapshot();
    const restored = KvStateMachine.restore(bytes);
    assert.deepEqual(restored.snapshot(), bytes);
    assert.equal(restored.revision, d.sm.revision);
    assert.equal(restored.appliedIndex, d.sm.appliedIndex);
    assert.deepEqual(restored.leases(), [{ id: lease, ttlMs: 30_000, deadlineMs: 37_000, renewedIndex: 1, keys: ['/s/leader'] }]);
    assert.deepEqual(restored.range({ prefix: '' }), d.sm.range({ prefix: '' }));
    // The restored lease still owns its key: revoking it deletes the key.
    const again = new Driver(restored);
    assert.equal(again.revoke(lease).deleted, 1);
    assert.equal(restored.get('/s/leader'), null);
  });

  test('corrupt snapshots are refused with a message saying what is wrong', () => {
    assert.throws(() => KvStateMachine.restore(new TextEncoder().encode('{"v":1')), KvSnapshotError);
    const base = { v: 1, applied: 3, revision: 2, leaseFloor: 0, keys: [['/k', 'v', 1, 2, 2, 0]], leases: [] };
    const enc = (o: unknown) => new TextEncoder().encode(JSON.stringify(o));
    assert.equal(KvStateMachine.restore(enc(base)).get('/k')?.version, 2);
    assert.throws(() => KvStateMachine.restore(enc({ ...base, v: 2 })), /malformed KV snapshot at v/);
    assert.throws(() => KvStateMachine.restore(enc({ ...base, keys: [['/k', 'v', 1, 2, 2, 9]] })), /"\/k" is bound to lease 9/);
    assert.throws(() => KvStateMachine.restore(enc({ ...base, keys: [['/k', 'v', 1, 5, 2, 0]] })), /exceed store revision 2/);
  });
});

// --- property: a replica restored midway ends in the same state as one that applied everything ---

const keyArb = fc.constantFrom('/a', '/b', '/s/x', '/s/y', '/s/z');
const valueArb = fc.constantFrom('', 'v1', 'v2', 'é✓');
/**
 * Lease references are slots, resolved when the entry is applied (see `resolve`): 0 = none or an
 * unknown id, k = the k-th lease granted so far (live or revoked). This makes puts to live leases,
 * keep-alives and revokes of them common instead of rare.
 */
const slotArb = fc.integer({ min: 0, max: 4 });
const compareArb: fc.Arbitrary<Compare> = fc.oneof(
  fc.record({ key: keyArb, target: fc.constantFrom('create' as const, 'mod' as const, 'version' as const, 'lease' as const), op: fc.constantFrom('==' as const, '!=' as const), value: fc.integer({ min: 0, max: 20 }) }),
  fc.record({ key: keyArb, target: fc.constant('value' as const), op: fc.constantFrom('==' as const, '!=' as const), value: valueArb }),
  fc.record({ key: keyArb, target: fc.constant('exists' as const), op: fc.constantFrom('==' as const, '!=' as const), value: fc.boolean() }),
);
const opArb: fc.Arbitrary<TxnOp> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('put' as const), key: keyArb, value: valueArb, lease: slotArb }), weight: 5 },
  fc.record({ kind: fc.constant('delete' as const), key: keyArb }),
  fc.record({ kind: fc.constant('deletePrefix' as const), prefix: fc.constantFrom('/s/', '/', '/nope') }),
  fc.record({ kind: fc.constant('range' as const), prefix: fc.constantFrom('/s/', '') }),
);
const commandArb: fc.Arbitrary<KvCommand> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('txn' as const), compare: fc.array(compareArb, { maxLength: 2 }), success: fc.array(opArb, { maxLength: 3 }), failure: fc.array(opArb, { maxLength: 2 }) }), weight: 6 },
  { arbitrary: fc.record({ kind: fc.constant('leaseGrant' as const), ttlMs: fc.integer({ min: 1, max: 60_000 }) }), weight: 2 },
  fc.record({ kind: fc.constant('leaseGrant' as const), id: fc.integer({ min: 1, max: 60 }), ttlMs: fc.integer({ min: 1, max: 60_000 }) }),
  fc.record({ kind: fc.constant('leaseKeepAlive' as const), id: slotArb }),
  fc.record({ kind: fc.constant('leaseRevoke' as const), id: slotArb }),
  fc.record({ kind: fc.constant('leaseRevoke' as const), id: slotArb, ifRenewedIndex: fc.integer({ min: 0, max: 40 }) }),
);
/** A log entry: a command, or now and then bytes that do not decode. */
const entryArb = fc.oneof(
  { arbitrary: fc.tuple(commandArb, fc.integer({ min: 0, max: 1_000 })).map(([cmd, dt]) => ({ cmd, dt })), weight: 20 },
  fc.constant({ cmd: null, dt: 0 }),
);

/** Replaces lease slots with real ids (see slotArb). */
function resolve(cmd: KvCommand, granted: readonly number[]): KvCommand {
  const id = (slot: number) => (slot === 0 || granted.length === 0 ? 999 : granted[(slot - 1) % granted.length] ?? 999);
  switch (cmd.kind) {
    case 'txn': {
      const ops = (list: readonly TxnOp[]) => list.map((op) => (op.kind === 'put' ? { ...op, lease: op.lease ? id(op.lease) : 0 } : op));
      return { ...cmd, success: ops(cmd.success), failure: ops(cmd.failure) };
    }
    case 'leaseGrant': return cmd;
    case 'leaseKeepAlive': return { ...cmd, id: id(cmd.id) };
    case 'leaseRevoke': return { ...cmd, id: id(cmd.id) };
  }
}

test('property: random command sequences on an original and a restored-midway replica end identical', () => {
  fc.assert(
    fc.property(fc.array(entryArb, { minLength: 1, maxLength: 40 }), fc.nat(), (entries, cutSeed) => {
      const cut = cutSeed % (entries.length + 1);
      const a = new KvStateMachine({ historyEvents: 16 });
      const heardA: AppliedChange[] = [];
      let b: KvStateMachine | null = null;
      const heardB: AppliedChange[] = [];
      let revisionAtCut = 0;
      let clock = 0;
      const granted: number[] = [];
      entries.forEach((entry, i) => {
        if (i === cut) {
          const snap = a.snapshot();
          b = KvStateMachine.restore(snap, { historyEvents: 16 });
          assert.equal(decodeText(b.snapshot()), decodeText(snap), 'restore then snapshot is the identity');
          b.subscribe((c) => heardB.push(c));
          a.subscribe((c) => heardA.push(c));
          revisionAtCut = a.revision;
        }
        clock += entry.dt;
        const bytes = entry.cmd ? encodeCommand(resolve(entry.cmd, granted), clock) : Uint8Array.of(0x7b);
        const ra: KvResult = a.apply(i + 1, bytes);
        if (ra.kind === 'leaseGrant') granted.push(ra.id);
        if (b) assert.deepEqual((b as KvStateMachine).apply(i + 1, bytes), ra);
      });
      // A cut after the last entry: restore at the very end.
      const restored: KvStateMachine = b ?? KvStateMachine.restore(a.snapshot());
      assert.equal(decodeText(restored.snapshot()), decodeText(a.snapshot()));
      assert.deepEqual(restored.leases(), a.leases());
      assert.deepEqual(restored.range({ prefix: '' }), a.range({ prefix: '' }));
      assert.deepEqual(heardB, heardA);
      // Both can answer watches from the cut on, identically (modulo a's longer history: a may hold
      // more, so compare only where the restored one answers with events).
      const wb = restored.watch(revisionAtCut, '/s/');
      const wa = a.watch(revisionAtCut, '/s/');
      if (wb.kind === 'events') assert.deepEqual(wb, wa);
    }),
    { numRuns: 400 },
  );
});
