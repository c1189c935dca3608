import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HealthFacts } from '../../src/api/backend.js';
import { healthStatus, HEALTH_PATHS, parseLag, tagsMatch } from '../../src/api/health.js';
import { startFake, send } from './client.js';
import { PRIMARY_FACTS, REPLICA_FACTS } from './fake-backend.js';

const STOPPED: HealthFacts = { ...REPLICA_FACTS, pgRunning: false, lagBytes: null };
/** PostgreSQL crashed on the primary; the agent still holds the leader key. */
const CRASHED_PRIMARY: HealthFacts = { ...PRIMARY_FACTS, pgRunning: false };
const NOLB_REPLICA: HealthFacts = { ...REPLICA_FACTS, tags: { noloadbalance: true } };
const SYNC_REPLICA: HealthFacts = { ...REPLICA_FACTS, synchronousMode: true, syncStandbys: ['NODE1'] };
const STANDBY_LEADER: HealthFacts = { ...PRIMARY_FACTS, pgPrimary: false, role: 'standby_leader', standbyCluster: true };

const PATHS = ['/', '/primary', '/master', '/read-write', '/leader', '/standby-leader', '/standby_leader', '/replica',
  '/read-only', '/synchronous', '/sync', '/asynchronous', '/async', '/read-only-sync', '/health', '/liveness', '/readiness'] as const;

/** Expected codes per situation, in PATHS order. */
const TABLE: Array<[string, HealthFacts, number[]]> = [
  //                                   /    prim mast rw   lead sl   sl_  repl ro   sync sync asyn async rosy hlth live ready
  ['running primary with the key', PRIMARY_FACTS, [200, 200, 200, 200, 200, 503, 503, 503, 200, 503, 503, 503, 503, 200, 200, 200, 200]],
  ['streaming replica', REPLICA_FACTS, [503, 503, 503, 503, 503, 503, 503, 200, 200, 503, 503, 200, 200, 503, 200, 200, 200]],
  ['stopped PostgreSQL', STOPPED, [503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 200, 503]],
  ['crashed primary still holding the key', CRASHED_PRIMARY, [503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 200, 200]],
  ['replica tagged noloadbalance', NOLB_REPLICA, [503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 503, 200, 200, 200]],
  ['synchronous standby', SYNC_REPLICA, [503, 503, 503, 503, 503, 503, 503, 200, 200, 200, 200, 503, 503, 200, 200, 200, 200]],
  ['standby leader', STANDBY_LEADER, [503, 503, 503, 503, 200, 200, 200, 503, 200, 503, 503, 503, 503, 200, 200, 200, 200]],
];

describe('health checks (pure)', () => {
  for (const [situation, facts, codes] of TABLE) {
    test(situation, () => {
      const got = PATHS.map((p) => healthStatus(HEALTH_PATHS.get(p)!, facts, new URLSearchParams(), 'node1'));
      assert.deepEqual(Object.fromEntries(PATHS.map((p, i) => [p, got[i]])), Object.fromEntries(PATHS.map((p, i) => [p, codes[i]])));
    });
  }

  test('?lag= accepts bytes and 1024-based units', () => {
    assert.equal(parseLag('100'), 100);
    assert.equal(parseLag('1kB'), 1024);
    assert.equal(parseLag('16MB'), 16 * 1024 ** 2);
    assert.equal(parseLag('2 GB'), 2 * 1024 ** 3);
    assert.equal(parseLag('1TB'), 1024 ** 4);
    assert.equal(parseLag('5B'), 5);
    assert.throws(() => parseLag('10 parsecs'), /lag: expected bytes.*"10 parsecs"/);
    assert.throws(() => parseLag('-1'), /lag/);
  });

  test('a replica lagging beyond ?lag= is not a replica target; unknown lag counts as lagging', () => {
    const lagging: HealthFacts = { ...REPLICA_FACTS, lagBytes: 2 * 1024 ** 2 };
    const q = (s: string) => new URLSearchParams(s);
    assert.equal(healthStatus('replica', lagging, q('lag=1MB'), 'node1'), 503);
    assert.equal(healthStatus('replica', lagging, q('lag=3MB'), 'node1'), 200);
    assert.equal(healthStatus('replica', lagging, q(''), 'node1'), 200);
    assert.equal(healthStatus('read-only', lagging, q('lag=1kB'), 'node1'), 503);
    assert.equal(healthStatus('replica', { ...REPLICA_FACTS, lagBytes: null }, q('lag=1MB'), 'node1'), 503);
  });

  test('tag filters: missing or different tag turns 200 into 503, non-strings compare lower-case', () => {
    const tagged: HealthFacts = { ...REPLICA_FACTS, tags: { dc: 'east', nosync: true } };
    const q = (s: string) => new URLSearchParams(s);
    assert.equal(healthStatus('replica', tagged, q('tag_dc=east'), 'node1'), 200);
    assert.equal(healthStatus('replica', tagged, q('tag_dc=west'), 'node1'), 503);
    assert.equal(healthStatus('replica', tagged, q('tag_rack=1'), 'node1'), 503);
    assert.equal(healthStatus('replica', tagged, q('tag_nosync=true'), 'node1'), 200);
    assert.equal(healthStatus('replica', tagged, q('tag_dc=east&tag_dc=west'), 'node1'), 200, 'first value wins');
    // Tags never affect the primary check.
    assert.equal(healthStatus('primary', { ...PRIMARY_FACTS, tags: {} }, q('tag_dc=east'), 'node1'), 200);
    assert.equal(tagsMatch(q('lag=1'), {}), true);
  });

  test('liveness fails when the HA loop has not completed a cycle within ttl (primary) or 2*ttl', () => {
    assert.equal(healthStatus('liveness', { ...PRIMARY_FACTS, lastCycleAgoMs: 31_000 }, new URLSearchParams(), 'n'), 503);
    assert.equal(healthStatus('liveness', { ...REPLICA_FACTS, lastCycleAgoMs: 31_000 }, new URLSearchParams(), 'n'), 200);
    assert.equal(healthStatus('liveness', { ...REPLICA_FACTS, lastCycleAgoMs: 61_000 }, new URLSearchParams(), 'n'), 503);
    assert.equal(healthStatus('liveness', { ...REPLICA_FACTS, lastCycleAgoMs: 61_000, paused: true }, new URLSearchParams(), 'n'), 200);
  });

  test('paused without a DCS view: the PostgreSQL role answers for the lock', () => {
    const f: HealthFacts = { ...PRIMARY_FACTS, holdsLock: false, paused: true, dcsViewValid: false };
    assert.equal(healthStatus('primary', f, new URLSearchParams(), 'n'), 200);
    assert.equal(healthStatus('primary', { ...f, paused: false }, new URLSearchParams(), 'n'), 503);
  });
});

describe('health endpoints over HTTP', () => {
  test('GET, HEAD and OPTIONS give the same codes; GET carries the status JSON', async () => {
    const { backend, port } = await startFake();
    for (const [situation, facts, codes] of TABLE) {
      backend.facts = facts;
      for (const [i, path] of PATHS.entries()) {
        for (const method of ['GET', 'HEAD', 'OPTIONS']) {
          const r = await send(port, method, path);
          assert.equal(r.status, codes[i], `${situation}: ${method} ${path}`);
          if (method === 'GET') assert.equal((r.json() as { patroni: { name: string } }).patroni.name, 'node1');
          else assert.equal(r.text, '', `${method} ${path} has no body`);
        }
      }
    }
  });

  test('query filters work over HTTP; a malformed ?lag= is a 400 naming the value', async () => {
    const { backend, port } = await startFake();
    backend.facts = { ...REPLICA_FACTS, lagBytes: 5000, tags: { dc: 'east' } };
    assert.equal((await send(port, 'GET', '/replica?lag=4kB')).status, 503);
    assert.equal((await send(port, 'GET', '/replica?lag=5kB')).status, 200);
    assert.equal((await send(port, 'OPTIONS', '/replica?tag_dc=west')).status, 503);
    assert.equal((await send(port, 'GET', '/replica/?tag_dc=east')).status, 200, 'trailing slash tolerated');
    const bad = await send(port, 'GET', '/replica?lag=lots');
    assert.equal(bad.status, 400);
    assert.match((bad.json() as { error: string }).error, /lag.*"lots"/);
  });

  test('an unknown GET path is a 404 JSON error, not a 503', async () => {
    const { port } = await startFake();
    const r = await send(port, 'GET', '/primray');
    assert.equal(r.status, 404);
    assert.equal(r.headers['content-type'], 'application/json');
    assert.match((r.json() as { error: string }).error, /unknown path "\/primray"/);
    assert.equal((await send(port, 'OPTIONS', '/primray')).status, 404);
  });
});
