import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaseClock, LeaseTtlError, validateLeaseTtl } from '../../../src/raft/kv/lease-clock.js';
import { Driver } from './support.js';

const ELECTION_MS = 5_000;

describe('validateLeaseTtl', () => {
  test('accepts a TTL of at least 1.5 x the election timeout', () => {
    assert.equal(validateLeaseTtl(30_000, 10_000), null);
    assert.equal(validateLeaseTtl(15_000, 10_000), null);
  });

  test('refuses a shorter TTL with a message naming both values and the minimum', () => {
    const err = validateLeaseTtl(14_999, 10_000);
    assert.ok(err instanceof LeaseTtlError);
    assert.match(err.message, /14999 ms/);
    assert.match(err.message, /10000 ms/);
    assert.match(err.message, /15000 ms/);
    assert.match(err.message, /at least 15 s/);
  });

  test('refuses non-positive and non-numeric TTLs', () => {
    assert.ok(validateLeaseTtl(0, 1_000) instanceof LeaseTtlError);
    assert.ok(validateLeaseTtl(Number.NaN, 1_000) instanceof LeaseTtlError);
  });
});

describe('LeaseClock', () => {
  test('reports a lease once its deadline (grant + ttl) passes, earliest first', () => {
    const c = new LeaseClock({ electionTimeoutMs: ELECTION_MS });
    c.promote([], 0);
    c.granted(7, 10_000, 1, 0);
    c.granted(3, 20_000, 2, 0);
    c.granted(9, 4_000, 3, 1_000);
    assert.equal(c.nextDeadlineMs(), 5_000);
    assert.deepEqual(c.expired(4_999), []);
    assert.deepEqual(c.expired(5_000), [9]);
    // 9 again: its revoke was never applied and the retry interval (one election timeout) passed.
    assert.deepEqual(c.expired(30_000), [9, 7, 3]);
  });

  test('a reported lease is not reported again until the revoke retry interval has passed', () => {
    const c = new LeaseClock({ electionTimeoutMs: ELECTION_MS, revokeRetryMs: 1_000 });
    c.promote([], 0);
    c.granted(1, 1_000, 1, 0);
    assert.deepEqual(c.expired(1_000), [1]);
    assert.deepEqual(c.expired(1_999), []);
    assert.equal(c.nextDeadlineMs(), 2_000);
    assert.deepEqual(c.expired(2_000), [1]);
    c.revoked(1);
    assert.deepEqual(c.expired(10_000), []);
    assert.equal(c.nextDeadlineMs(), null);
  });

  test('renew (a keep-alive without a log entry) extends a live lease to now + ttl, on the leader only', () => {
    const c = new LeaseClock({ electionTimeoutMs: ELECTION_MS });
    c.promote([], 0);
    c.granted(1, 10_000, 1, 0);
    assert.equal(c.renew(1, 9_000), true);
    assert.equal(c.remainingMs(1, 9_000), 10_000);
    assert.deepEqual(c.expired(18_999), []);
    assert.deepEqual(c.expired(19_000), [1]);
    assert.equal(c.renew(2, 9_000), false, 'an unknown lease is not renewed');
    c.demote();
    assert.equal(c.renew(1, 9_000), false, 'a follower renews nothing');
  });

  test('renew refuses a lease past its deadline or awaiting its revoke, so a revoke in flight never deletes a renewed lease', () => {
    const c = new LeaseClock({ electionTimeoutMs: ELECTION_MS, revokeRetryMs: 1_000 });
    c.promote([], 0);
    c.granted(1, 1_000, 1, 0);
    c.granted(2, 1_000, 2, 0);
    assert.equal(c.renew(1, 1_000), false, 'deadline reached: expired, even before it was reported');
    assert.deepEqual(c.expired(1_000), [1, 2]);
    assert.equal(c.renew(2, 999), false, 'reported (revoke proposed): refused even at an earlier clock reading');
    assert.deepEqual(c.expired(2_000), [1, 2], 'still due: renew did not bring them back');
  });

  test('a keep-alive extends the deadline to now + ttl', () => {
    const c = new LeaseClock({ electionTimeoutMs: ELECTION_MS });
    c.promote([], 0);
    c.granted(1, 10_000, 1, 0);
    assert.equal(c.keptAlive(1, 2, 8_000), true);
    assert.equal(c.remainingMs(1, 8_000), 10_000);
    assert.deepEqual(c.expired(17_999), []);
    assert.deepEqual(c.expired(18_000), [1]);
    assert.equal(c.keptAlive(42, 3, 8_000), false);
  });

  test('a new leader restarts every lease at now + ttl + election timeout, whatever the old clock said', () => {
    const d = new Driver();
    d.nowMs = 1_000_000; // the old leader's clock, far ahead of ours
    const long = d.grant(30_000).id;
    d.nowMs = 10; // ... or far behind: this lease looks long expired by its recorded deadline
    const short = d.grant(10_000).id;
    const c = new LeaseClock({ electionTimeoutMs: ELECTION_MS });
    c.promote(d.sm.leases(), 500);
    assert.equal(c.remainingMs(short, 500), 10_000 + ELECTION_MS);
    assert.deepEqual(c.expired(500 + 10_000 + ELECTION_MS - 1), []);
    assert.deepEqual(c.expired(500 + 10_000 + ELECTION_MS), [short]);
    c.revoked(short);
    assert.deepEqual(c.expired(500 + 30_000 + ELECTION_MS - 1), []);
    assert.deepEqual(c.expired(500 + 30_000 + ELECTION_MS), [long]);
  });

  test('a follower tracks nothing and expires nothing; demotion forgets the deadlines', () => {
    const c = new LeaseClock({ electionTimeoutMs: ELECTION_MS });
    c.granted(1, 1_000, 1, 0);
    assert.deepEqual(c.expired(1e9), []);
    c.promote([{ id: 1, ttlMs: 1_000, renewedIndex: 1 }], 0);
    assert.equal(c.isLeader, true);
    c.demote();
    assert.equal(c.isLeader, false);
    assert.deepEqual(c.expired(1e9), []);
    assert.equal(c.remainingMs(1, 0), null);
  });

  test('driven by apply results: grant, keep-alive, expiry revoke deleting the keys, seen by watch', () => {
    const d = new Driver();
    const c = new LeaseClock({ electionTimeoutMs: ELECTION_MS });
    c.promote(d.sm.leases(), 0);
    const apply = (r: ReturnType<Driver['run']>, now: number) => { c.observe(r, now); return r; };
    d.nowMs = 0;
    const grant = apply(d.run({ kind: 'leaseGrant', ttlMs: 10_000 }), 0);
    assert.ok(grant.kind === 'leaseGrant');
    d.put('/s/leader', 'a', grant.id);
    d.nowMs = 6_000;
    apply(d.run({ kind: 'leaseKeepAlive', id: grant.id }), 6_000);
    assert.deepEqual(c.expired(15_999), []);
    const [expiredId] = c.expired(16_000);
    assert.equal(expiredId, grant.id);
    const before = d.sm.revision;
    const revoke = apply(d.run(c.revokeCommand(grant.id)!), 16_001);
    assert.ok(revoke.kind === 'leaseRevoke' && revoke.revoked);
    assert.equal(d.sm.get('/s/leader'), null);
    assert.equal(c.remainingMs(grant.id, 16_001), null);
    const w = d.sm.watch(before, '/s/');
    assert.ok(w.kind === 'events');
    assert.deepEqual(w.events.map((e) => `${e.kind} ${e.key}`), ['delete /s/leader']);
  });

  test('a keep-alive that reaches the log before the expiry revoke keeps the lease and its keys', () => {
    const d = new Driver();
    const c = new LeaseClock({ electionTimeoutMs: ELECTION_MS });
    c.promote([], 0);
    d.nowMs = 0;
    const grant = d.run({ kind: 'leaseGrant', ttlMs: 10_000 });
    c.observe(grant, 0);
    assert.ok(grant.kind === 'leaseGrant');
    d.put('/s/leader', 'a', grant.id);
    assert.deepEqual(c.expired(10_000), [grant.id]);
    const revoke = c.revokeCommand(grant.id)!; // proposed now, but the keep-alive is ahead of it
    d.nowMs = 10_001;
    c.observe(d.run({ kind: 'leaseKeepAlive', id: grant.id }), 10_002);
    const r = d.run(revoke);
    c.observe(r, 10_003);
    assert.ok(r.kind === 'leaseRevoke' && r.found && !r.revoked);
    assert.equal(d.sm.get('/s/leader')?.value, 'a');
    assert.equal(c.remainingMs(grant.id, 10_003), 10_000 - 1);
    assert.deepEqual(c.expired(20_001), []);
    assert.deepEqual(c.expired(20_002), [grant.id]);
  });
});
