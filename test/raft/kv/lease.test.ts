import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Driver } from './support.js';

describe('leases in the state machine', () => {
  test('ids come from the log index, never repeat, and an explicit id that exists is refused', () => {
    const d = new Driver();
    d.put('/pad', 'x'); // index 1
    const a = d.grant(10_000); // index 2
    assert.equal(a.id, 2);
    assert.equal(a.renewedIndex, 2);
    const explicit = d.grant(10_000, 500); // index 3
    assert.equal(explicit.id, 500);
    // The next allocation stays above every id handed out so far.
    assert.equal(d.grant(10_000).id, 501);
    const dup = d.run({ kind: 'leaseGrant', id: 500, ttlMs: 5_000 });
    assert.equal(dup.kind, 'error');
    assert.ok(dup.kind === 'error' && dup.code === 'lease-exists' && dup.message.includes('500'));
    assert.deepEqual(d.sm.leases().map((l) => l.id), [2, 500, 501]);
  });

  test('deadlines follow the proposer clock recorded in the entry', () => {
    const d = new Driver();
    d.nowMs = 50_000;
    const id = d.grant(30_000).id;
    assert.equal(d.sm.lease(id)?.deadlineMs, 80_000);
    d.nowMs = 60_000;
    const k = d.keepAlive(id);
    assert.deepEqual([k.found, k.ttlMs, k.renewedIndex], [true, 30_000, d.index]);
    assert.equal(d.sm.lease(id)?.deadlineMs, 90_000);
    assert.deepEqual(d.keepAlive(12345), { kind: 'leaseKeepAlive', id: 12345, found: false, ttlMs: 0, renewedIndex: 0, revision: 0 });
  });

  test('revoking a lease deletes its keys in one revision and only its keys', () => {
    const d = new Driver();
    const mine = d.grant(30_000).id;
    const other = d.grant(30_000).id;
    d.ok([], [{ kind: 'put', key: '/s/leader', value: 'a', lease: mine }, { kind: 'put', key: '/s/members/a', value: '{}', lease: mine }]);
    d.put('/s/members/b', '{}', other);
    d.put('/s/config', '{}');
    const before = d.sm.revision;
    const r = d.revoke(mine);
    assert.deepEqual([r.found, r.revoked, r.deleted, r.revision], [true, true, 2, before + 1]);
    assert.deepEqual(d.sm.range({ prefix: '/s/' }).kvs.map((kv) => kv.key), ['/s/config', '/s/members/b']);
    assert.equal(d.sm.lease(mine), null);
    // A put to the revoked lease now fails; a second revoke is harmless.
    const late = d.txn([], [{ kind: 'put', key: '/s/leader', value: 'a', lease: mine }]);
    assert.equal(late.kind === 'error' && late.code, 'lease-not-found');
    assert.deepEqual(d.revoke(mine), { kind: 'leaseRevoke', id: mine, found: false, revoked: false, deleted: 0, revision: before + 1 });
  });

  test('revoking a lease with no keys leaves the revision alone', () => {
    const d = new Driver();
    d.put('/a', '1');
    const id = d.grant(30_000).id;
    assert.equal(d.revoke(id).revision, 1);
  });

  test('a guarded revoke loses to a keep-alive applied after the expiry decision', () => {
    const d = new Driver();
    const id = d.grant(30_000).id;
    d.put('/leader', 'a', id);
    const seen = d.sm.lease(id)!.renewedIndex; // what the leader's clock knew when it judged expiry
    d.keepAlive(id); // reached the log first
    const r = d.revoke(id, seen);
    assert.deepEqual([r.found, r.revoked, r.deleted], [true, false, 0]);
    assert.equal(d.sm.get('/leader')?.value, 'a');
    // With the current renewal index it goes through.
    assert.equal(d.revoke(id, d.sm.lease(id)!.renewedIndex).revoked, true);
    assert.equal(d.sm.get('/leader'), null);
  });
});
