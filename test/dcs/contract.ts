/**
 * THE shared DCS contract suite (DESIGN.md "DCS contract"). Every adapter runs this same file through
 * a small harness; nothing here knows which store is behind the Dcs interface.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { DcsUnavailableError } from '../../src/dcs/errors.js';
import type { Dcs } from '../../src/dcs/port.js';
import type { MemberData } from '../../src/dcs/types.js';
import { clusterTimeline } from '../../src/dcs/types.js';
import { sleep, waitFor } from '../support/ports.js';

export interface OpenOptions {
  readonly scope: string;
  readonly member: string;
  readonly ttlSeconds?: number;
  readonly retryTimeoutMs?: number;
}

export interface ContractHarness {
  /** Default lease ttl for the expiry tests (seconds). */
  readonly ttlSeconds: number;
  /** Default retry timeout (ms). */
  readonly retryTimeoutMs: number;
  /** An adapter for `member`, connected through a link that `silence` can cut. */
  open(o: OpenOptions): Promise<Dcs>;
  /** Make this adapter's link blackhole all traffic (the member "goes silent"). */
  silence(dcs: Dcs): void;
  /** Restore the link. */
  heal(dcs: Dcs): void;
  /** Stop / start the store itself (data kept). */
  stopServer(): Promise<void>;
  startServer(): Promise<void>;
  teardown(): Promise<void>;
}

/** Measurements collected while the suite runs; printed at the end for the issue note. */
export const measurements: Record<string, number[]> = {};
function record(key: string, v: number): void {
  (measurements[key] ??= []).push(Math.round(v));
}

let scopeSeq = 0;
const newScope = (): string => `contract-${process.pid}-${Date.now().toString(36)}-${scopeSeq++}`;

const memberData = (name: string, extra: Partial<MemberData> = {}): MemberData => ({
  conn_url: `postgres://127.0.0.1:5432/postgres`,
  api_url: `http://127.0.0.1:8008/patroni`,
  state: 'running',
  role: 'replica',
  version: '0.1.0',
  ...extra,
  ...(name ? {} : {}),
});

export function dcsContract(name: string, makeHarness: () => Promise<ContractHarness>): void {
  describe(`DCS contract: ${name}`, () => {
    let h: ContractHarness;
    const opened: Dcs[] = [];
    const open = async (o: OpenOptions): Promise<Dcs> => {
      const d = await h.open(o);
      opened.push(d);
      return d;
    };

    before(async () => { h = await makeHarness(); });
    after(async () => {
      for (const d of opened) await d.close().catch(() => undefined);
      await h.teardown();
      if (Object.keys(measurements).length) console.log(`[${name}] measurements (ms): ${JSON.stringify(measurements)}`);
    });

    test('two members racing for the leader key: exactly one wins, every round', async () => {
      const scope = newScope();
      const a = await open({ scope, member: 'a' });
      const b = await open({ scope, member: 'b' });
      for (let round = 0; round < 25; round++) {
        const [ra, rb] = await Promise.all([a.attemptToAcquireLeader(), b.attemptToAcquireLeader()]);
        assert.equal(Number(ra) + Number(rb), 1, `round ${round}: a=${ra} b=${rb}`);
        const winner = ra ? a : b;
        const view = await b.getCluster();
        assert.equal(view.leader?.member, winner.member);
        // The loser cannot take it while it is held.
        assert.equal(await (ra ? b : a).attemptToAcquireLeader(), false);
        assert.equal(await winner.deleteLeader(), true);
      }
    });

    test('a non-owner can neither refresh nor delete the leader key', async () => {
      const scope = newScope();
      const a = await open({ scope, member: 'a' });
      const b = await open({ scope, member: 'b' });
      assert.equal(await a.attemptToAcquireLeader(), true);
      assert.equal(await b.updateLeader(), false);
      assert.equal(await b.deleteLeader(), false);
      assert.equal(await a.updateLeader(), true);
      const view = await b.getCluster();
      assert.equal(view.leader?.member, 'a');
      assert.equal(await a.deleteLeader(), true);
      assert.equal((await b.getCluster()).leader, null);
      assert.equal(await a.updateLeader(), false, 'a released key must not be re-created by a refresh');
      assert.equal((await b.getCluster()).leader, null);
    });

    test('the leader key and member record vanish within ttl + 1 s of the owner going silent, not before ttl - 1 s', async () => {
      const rounds = 3;
      for (let round = 0; round < rounds; round++) {
        const scope = newScope();
        const a = await open({ scope, member: 'a' });
        const b = await open({ scope, member: 'b' });
        await a.touchMember(memberData('a'));
        assert.equal(await a.attemptToAcquireLeader(), true);
        assert.equal(await a.updateLeader(), true);
        const confirmed = a.leaseConfirmedAt();
        assert.ok(confirmed !== null, 'leaseConfirmedAt is set after a renewal');
        const silentAt = performance.now();
        h.silence(a);
        let leaderGone = -1;
        let memberGone = -1;
        const limit = (h.ttlSeconds + 1) * 1000;
        while (performance.now() - silentAt < limit + 1500 && (leaderGone < 0 || memberGone < 0)) {
          const v = await b.getCluster();
          const t = performance.now() - silentAt;
          if (leaderGone < 0 && v.leader === null) leaderGone = t;
          if (memberGone < 0 && !v.members.has('a')) memberGone = t;
          await sleep(50);
        }
        record('leader key gone after silence', leaderGone);
        record('member key gone after silence', memberGone);
        assert.ok(leaderGone > 0, 'leader key never vanished');
        assert.ok(leaderGone >= (h.ttlSeconds - 1) * 1000, `leader key vanished too early: ${leaderGone} ms`);
        assert.ok(leaderGone <= limit, `leader key vanished too late: ${leaderGone} ms`);
        assert.ok(memberGone > 0 && memberGone <= limit, `member key gone at ${memberGone} ms`);
        // Its confirmed deadline was never later than the moment the key vanished.
        assert.ok(confirmed + h.ttlSeconds * 1000 <= silentAt + leaderGone + 100);
        h.heal(a);
        // The silent owner has lost the lock: a refresh reports it and does not re-create the key.
        assert.equal(await a.updateLeader(), false);
        assert.equal(await b.attemptToAcquireLeader(), true);
        assert.equal((await a.getCluster()).leader?.member, 'b');
      }
    });

    test('member records: published, readable by others, updated in place', async () => {
      const scope = newScope();
      const a = await open({ scope, member: 'a' });
      const b = await open({ scope, member: 'b' });
      await a.touchMember(memberData('a', { role: 'master', xlog_location: 123, timeline: 2, tags: { nofailover: true } }));
      await b.touchMember(memberData('b'));
      let v = await a.getCluster();
      assert.deepEqual([...v.members.keys()].sort(), ['a', 'b']);
      assert.equal(v.members.get('a')?.data.role, 'master');
      assert.equal(v.members.get('a')?.data.xlog_location, 123);
      assert.equal(v.members.get('a')?.data.tags?.nofailover, true);
      await a.touchMember(memberData('a', { role: 'replica' }));
      v = await b.getCluster();
      assert.equal(v.members.get('a')?.data.role, 'replica');
      await a.close({ revoke: true });
      v = await b.getCluster();
      assert.equal(v.members.has('a'), false, 'revoking the lease on a clean close removes the record');
    });

    test('repeating an unchanged member record keeps it (and its lease) alive past ttl', async () => {
      const scope = newScope();
      const a = await open({ scope, member: 'a' });
      const b = await open({ scope, member: 'b' });
      const end = performance.now() + (h.ttlSeconds + 2) * 1000;
      while (performance.now() < end) {
        await a.touchMember(memberData('a'));
        await sleep(1000);
      }
      assert.ok((await b.getCluster()).members.has('a'), 'member record expired although it was touched every second');
    });

    test('compare-and-set: a stale version is rejected, create-only refuses an existing key', async () => {
      const scope = newScope();
      const a = await open({ scope, member: 'a' });
      const b = await open({ scope, member: 'b' });
      assert.deepEqual(await a.initialize('', true), { ok: true, version: (await a.getCluster()).initialize!.version });
      assert.deepEqual(await b.initialize('', true), { ok: false, reason: 'exists' });
      assert.equal((await b.initialize('7200000000000000001', false)).ok, true);

      const c1 = await a.setConfig({ ttl: 30 }, null);
      assert.ok(c1.ok);
      assert.deepEqual(await b.setConfig({ ttl: 40 }, null), { ok: false, reason: 'exists' });
      const c2 = await b.setConfig({ ttl: 40 }, c1.version);
      assert.ok(c2.ok);
      assert.deepEqual(await a.setConfig({ ttl: 50 }, c1.version), { ok: false, reason: 'version-mismatch' });

      const f1 = await a.setFailover({ leader: 'a', member: 'b' }, undefined);
      assert.ok(f1.ok);
      const f2 = await b.setFailover({}, f1.version);
      assert.ok(f2.ok);
      assert.equal((await a.setFailover({ member: 'x' }, f1.version)).ok, false);

      const s1 = await a.setSync({ leader: 'a', sync_standby: ['c', 'b'] }, null);
      assert.ok(s1.ok);
      assert.equal((await b.deleteSync('1')).ok, false);
      const h1 = await a.setHistory([[1, 25165984, 'no recovery target specified', '2026-11-22T00:00:00+00:00', 'a']], undefined);
      assert.ok(h1.ok);

      const v = await b.getCluster();
      assert.equal(v.initialize?.value, '7200000000000000001');
      assert.deepEqual(v.config?.value, { ttl: 40 });
      assert.equal(v.config?.version, c2.version);
      assert.deepEqual(v.failover?.value, {});
      assert.deepEqual(v.sync?.value, { leader: 'a', sync_standby: ['b', 'c'] });
      assert.equal(clusterTimeline(v), 2);
      assert.ok((await b.deleteSync(s1.version)).ok);
      assert.equal((await a.getCluster()).sync, null);
    });

    test('a change wakes a waiter within 1 s; no change lets it time out', async () => {
      const scope = newScope();
      const a = await open({ scope, member: 'a' });
      const b = await open({ scope, member: 'b' });
      const v0 = await b.getCluster();
      const t0 = performance.now();
      assert.equal(await b.watch(v0.revision, 400), false, 'no change: the wait times out');
      assert.ok(performance.now() - t0 >= 350);

      for (let i = 0; i < 3; i++) {
        const v = await b.getCluster();
        const waiting = b.watch(v.revision, 5000);
        await sleep(100);
        const t = performance.now();
        // Alternate: take the key, then release it; each is a change under the prefix.
        assert.equal(i % 2 === 0 ? await a.attemptToAcquireLeader() : await a.deleteLeader(), true);
        assert.equal(await waiting, true);
        const ms = performance.now() - t;
        record('watch wake-up latency', ms);
        assert.ok(ms < 1000, `woken after ${ms} ms`);
      }
      // A change made before the wait started (after the read) is not missed.
      const v = await b.getCluster();
      await a.setFailover({ member: 'b' }, undefined);
      assert.equal(await b.watch(v.revision, 3000), true);
    });

    test('delete cluster removes everything under the prefix', async () => {
      const scope = newScope();
      const a = await open({ scope, member: 'a' });
      await a.initialize('1', true);
      await a.setConfig({ ttl: 30 }, undefined);
      await a.touchMember(memberData('a'));
      await a.attemptToAcquireLeader();
      await a.deleteCluster();
      const v = await a.getCluster();
      assert.equal(v.initialize, null);
      assert.equal(v.config, null);
      assert.equal(v.leader, null);
      assert.equal(v.members.size, 0);
    });

    test('a blackholed link fails every operation with the typed error within retry_timeout', async () => {
      const scope = newScope();
      const a = await open({ scope, member: 'a', retryTimeoutMs: 1500 });
      assert.equal(await a.attemptToAcquireLeader(), true);
      h.silence(a);
      try {
        for (const [op, run] of ops(a)) {
          const t = performance.now();
          await assert.rejects(run(), (e: unknown) => e instanceof DcsUnavailableError, `${op} must reject with DcsUnavailableError`);
          const ms = performance.now() - t;
          record('blackholed op failed after', ms);
          assert.ok(ms <= 1500 + 1000, `${op} took ${ms} ms`);
        }
      } finally {
        h.heal(a);
      }
    });

    test('with the store stopped every operation fails with the typed error within retry_timeout, and works after a restart', async () => {
      const scope = newScope();
      const retry = 2000;
      const a = await open({ scope, member: 'a', retryTimeoutMs: retry });
      assert.equal(await a.attemptToAcquireLeader(), true);
      await h.stopServer();
      try {
        for (const [op, run] of ops(a)) {
          const t = performance.now();
          await assert.rejects(run(), (e: unknown) => e instanceof DcsUnavailableError, `${op} must reject with DcsUnavailableError`);
          const ms = performance.now() - t;
          record('store down: op failed after', ms);
          assert.ok(ms <= retry + 1000, `${op} took ${ms} ms`);
        }
        // watch never rejects and never hangs past its timeout.
        const t = performance.now();
        await a.watch('0', 500);
        assert.ok(performance.now() - t < 1500);
      } finally {
        await h.startServer();
      }
      const t = performance.now();
      await waitFor('the adapter to work again after the store restarted', async () => (await a.getCluster()).revision !== '', 15_000, 100);
      record('recovered after store restart', performance.now() - t);
      // The lease may or may not have survived the restart (etcd keeps leases across restarts, and
      // extends them); either way the adapter keeps working.
      await a.touchMember(memberData('a'));
      const v = await a.getCluster();
      assert.ok(v.members.has('a'));
    });
  });
}

function ops(d: Dcs): Array<[string, () => Promise<unknown>]> {
  return [
    ['getCluster', () => d.getCluster()],
    ['attemptToAcquireLeader', () => d.attemptToAcquireLeader()],
    ['updateLeader', () => d.updateLeader()],
    ['touchMember', () => d.touchMember(memberData('x', { state: 'stopped', role: 'replica', version: String(Math.random()) }))],
    ['setConfig', () => d.setConfig({ ttl: 31 }, undefined)],
    ['deleteLeader', () => d.deleteLeader()],
  ];
}
