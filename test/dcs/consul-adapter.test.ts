/**
 * Consul-specific behaviour of the adapter that the shared contract suite cannot see: what it asks
 * Consul for (session settings, key layout), ACL tokens, "No cluster leader", service registration,
 * re-binding our own keys after a restart, and reading the `consul:` config section. Runs against
 * the FAKE Consul.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { ConsulDcs, type ConsulOptions } from '../../src/dcs/consul/adapter.js';
import { consulEndpoint } from '../../src/dcs/consul/config.js';
import { openDcs } from '../../src/dcs/factory.js';
import { loadConfig } from '../../src/config/index.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DcsUnavailableError } from '../../src/dcs/errors.js';
import type { MemberData } from '../../src/dcs/types.js';
import { FakeConsul } from '../support/fake-consul.js';

const TOKEN = 'secret-acl-token-123';
let fake: FakeConsul;
const opened: ConsulDcs[] = [];
before(async () => { fake = await FakeConsul.start({ sessionTtlMinMs: 1000, aclToken: TOKEN }); });
after(async () => {
  for (const d of opened) await d.close().catch(() => undefined);
  await fake.close();
});

let seq = 0;
function open(member: string, extra: Partial<ConsulOptions> = {}, scope = `adapter-${seq++}`): ConsulDcs {
  const d = new ConsulDcs({
    namespace: '/service/', scope, member, ttlSeconds: 4, retryTimeoutMs: 1500,
    host: '127.0.0.1', port: fake.port, scheme: 'http', token: TOKEN, ...extra,
  });
  opened.push(d);
  return d;
}
const data = (role: string): MemberData => ({ conn_url: 'postgres://127.0.0.1:5433/postgres', api_url: 'http://127.0.0.1:8009/patroni', state: 'running', role, version: '0.1.0' });
const sessionCreates = () => fake.requests.filter((r) => r.path === '/v1/session/create').map((r) => JSON.parse(r.body) as Record<string, unknown>);

describe('consul adapter: what it asks Consul for', () => {
  test('one session of ttl/2 with no checks, behavior delete and lock-delay 0; keys without a leading slash', async () => {
    const before = sessionCreates().length;
    const a = open('a', {}, 'layout');
    assert.equal(await a.attemptToAcquireLeader(), true);
    await a.touchMember(data('master'));
    assert.equal(await a.updateLeader(), true);
    const created = sessionCreates().slice(before);
    assert.equal(created.length, 1, 'one session serves the leader key and the member record');
    assert.deepEqual(created[0], { Name: 'layout-a', TTL: '2s', Behavior: 'delete', LockDelay: '0s', Checks: [] });
    const keys = [...fake.state.kv.keys()].filter((k) => k.includes('/layout/')).sort();
    assert.deepEqual(keys, ['service/layout/leader', 'service/layout/members/a']);
    const sid = fake.state.kv.get('service/layout/leader')?.session;
    assert.ok(sid);
    assert.equal(fake.state.kv.get('service/layout/members/a')?.session, sid);
    assert.ok(a.leaseConfirmedAt() !== null);
  });

  test('configured checks are passed to the session', async () => {
    const before = sessionCreates().length;
    const a = open('a', { checks: ['serfHealth'] });
    await a.attemptToAcquireLeader();
    assert.deepEqual(sessionCreates().slice(before)[0]?.Checks, ['serfHealth']);
  });

  test('a wrong ACL token fails at once with the typed error, and the token never appears in the message', async () => {
    const a = open('a', { token: 'wrong-token-456' });
    const t = performance.now();
    await assert.rejects(a.getCluster(), (e: unknown) => e instanceof DcsUnavailableError && /403/.test(e.message) && !e.message.includes('wrong-token-456'));
    assert.ok(performance.now() - t < 1000, 'a 403 is not retried until the deadline');
  });

  test('"No cluster leader" is unavailability: retried until retry_timeout, then DcsUnavailableError', async () => {
    const a = open('a');
    await a.getCluster();
    await fake.setMode('no-leader');
    try {
      const t = performance.now();
      await assert.rejects(a.attemptToAcquireLeader(), (e: unknown) => e instanceof DcsUnavailableError && /No cluster leader/.test(e.message));
      const ms = performance.now() - t;
      assert.ok(ms >= 1300 && ms < 2500, `gave up after ${ms} ms`);
    } finally {
      await fake.setMode('up');
    }
  });

  test('a session TTL below the server minimum fails with a message naming ttl', async () => {
    const a = open('a', { ttlSeconds: 1 });
    await assert.rejects(a.attemptToAcquireLeader(), (e: unknown) => e instanceof DcsUnavailableError && /session TTL 0\.5s \(ttl 1 \/ 2\)/.test(e.message));
  });
});

describe('consul adapter: sessions and our own keys', () => {
  test('a restarted member (new session) re-binds its own leader key and member record', async () => {
    const scope = `rebind-${seq++}`;
    const old = open('a', {}, scope);
    assert.equal(await old.attemptToAcquireLeader(), true);
    await old.touchMember(data('master'));
    const oldSession = fake.state.kv.get(`service/${scope}/leader`)!.session;
    const fresh = open('a', {}, scope); // same member, new process: a new session
    const other = open('b', {}, scope);
    assert.equal(await other.updateLeader(), false);
    assert.equal(await fresh.updateLeader(), true, 'our name on the key: re-bound to the new session');
    await fresh.touchMember(data('master'));
    const view = await other.getCluster();
    assert.equal(view.leader?.member, 'a');
    assert.ok(view.leader?.session && view.leader.session === view.members.get('a')?.session);
    assert.notEqual(view.leader?.session, oldSession);
    const stillOld = [...fake.state.kv.values()].filter((e) => e.session === oldSession).map((e) => e.key);
    assert.deepEqual(stillOld, [], 'nothing stays bound to the previous process\'s session');
  });

  test('when Consul drops our session, the next touch re-creates it and re-publishes the record', async () => {
    const scope = `dropped-${seq++}`;
    const a = open('a', {}, scope);
    await a.touchMember(data('replica'));
    const sid = fake.state.kv.get(`service/${scope}/members/a`)!.session!;
    fake.state.invalidate(sid); // as a TTL expiry would
    assert.equal(fake.state.kv.has(`service/${scope}/members/a`), false);
    await a.touchMember(data('replica'));
    const e = fake.state.kv.get(`service/${scope}/members/a`);
    assert.ok(e?.session && e.session !== sid);
    assert.equal(await a.updateLeader(), false, 'the leader key, had we held it, died with the old session');
  });
});

describe('consul adapter: register_service', () => {
  test('disabled by default: nothing is registered', async () => {
    const a = open('a');
    assert.equal(await a.registerService('master', 'http://127.0.0.1:8009/patroni'), false);
    assert.equal(fake.services.size, 0);
  });

  test('registers <scope>/<name> tagged with its role and an HTTP check on the role endpoint; re-registers on a role change; close deregisters', async () => {
    const a = open('node1', { registerService: true, serviceTags: ['dc-east'], serviceCheckInterval: '7s' }, 'svc');
    const registrations = () => fake.requests.filter((r) => r.path === '/v1/agent/service/register').length;
    assert.equal(await a.registerService('master', 'http://127.0.0.1:8009/patroni', 'postgres://127.0.0.1:5433/postgres'), true);
    let s = fake.services.get('svc/node1');
    assert.equal(s?.Name, 'svc');
    assert.deepEqual(s?.Tags, ['dc-east', 'master', 'primary']);
    assert.equal(s?.Address, '127.0.0.1');
    assert.equal(s?.Port, 5433);
    assert.deepEqual(s?.Check, { HTTP: 'http://127.0.0.1:8009/primary', Interval: '7s', DeregisterCriticalServiceAfter: '20s' });
    const count = registrations();
    assert.equal(await a.registerService('master', 'http://127.0.0.1:8009/patroni', 'postgres://127.0.0.1:5433/postgres'), false);
    assert.equal(registrations(), count, 'unchanged role: no request');
    assert.equal(await a.registerService('replica', 'http://127.0.0.1:8009/patroni', 'postgres://127.0.0.1:5433/postgres'), true);
    s = fake.services.get('svc/node1');
    assert.deepEqual(s?.Tags, ['dc-east', 'replica']);
    assert.equal((s?.Check as Record<string, unknown>).HTTP, 'http://127.0.0.1:8009/replica');
    await assert.rejects(a.registerService('uninitialized', 'http://127.0.0.1:8009/patroni'), /role "uninitialized"/);
    await a.close();
    assert.equal(fake.services.has('svc/node1'), false);
  });
});

describe('consul adapter: the consul config section', () => {
  test('url wins; host may carry a port; port and scheme apply to host; TLS files imply https', () => {
    assert.deepEqual(consulEndpoint({ host: '127.0.0.1:8500', url: 'https://c.example:8501' }), { host: 'c.example', port: 8501, scheme: 'https' });
    assert.deepEqual(consulEndpoint({ host: '10.0.0.1:9500' }), { host: '10.0.0.1', port: 9500, scheme: 'http' });
    assert.deepEqual(consulEndpoint({ host: 'consul.local', port: 8600, scheme: 'https' }), { host: 'consul.local', port: 8600, scheme: 'https' });
    assert.deepEqual(consulEndpoint({ host: '[::1]:8500' }), { host: '::1', port: 8500, scheme: 'http' });
    assert.deepEqual(consulEndpoint({ host: 'c', cacert: '/etc/ca.pem' }), { host: 'c', port: 8500, scheme: 'https' });
    assert.throws(() => consulEndpoint({ host: 'x', url: 'ftp://x' }), /consul\.url: expected an http or https URL, got "ftp:\/\/x"/);
    assert.throws(() => consulEndpoint({ host: 'a:b:c' }), /consul\.host: expected "host" or "host:port", got "a:b:c"/);
  });

  test('openDcs builds the Consul adapter from a consul: section (token, register_service, service_tags)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'consul-cfg-'));
    try {
      const path = join(dir, 'node.yml');
      writeFileSync(path, JSON.stringify({
        scope: 'fromcfg', name: 'n1', restapi: { listen: '127.0.0.1:8008' },
        consul: { url: fake.url, token: TOKEN, register_service: true, service_tags: 'east,ssd', consistency: 'consistent' },
        postgresql: { listen: '127.0.0.1:5432', connect_address: '127.0.0.1:5432', data_dir: join(dir, 'data'), authentication: { superuser: { username: 'p', password: 'p' }, replication: { username: 'r', password: 'r' } } },
      }));
      const loaded = loadConfig(path);
      assert.deepEqual(loaded.errors, []);
      const d = await openDcs(loaded.config!, { ttlSeconds: 4, retryTimeoutSeconds: 1 });
      assert.ok(d instanceof ConsulDcs);
      opened.push(d);
      assert.equal(await d.attemptToAcquireLeader(), true, 'the token from the config reaches Consul');
      assert.equal((await d.getCluster()).leader?.member, 'n1');
      assert.equal(await d.registerService('replica', 'http://127.0.0.1:8008/patroni'), true);
      assert.deepEqual(fake.services.get('fromcfg/n1')?.Tags, ['east', 'ssd', 'replica']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
