/**
 * The FAKE Consul checked against Consul's documented rules (api-docs/kv, api-docs/session,
 * api-docs/features/blocking, docs "Sessions and Distributed Locks"), over plain HTTP, so that the
 * adapter's contract run rests on a fake that behaves as documented.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { FakeConsul } from '../support/fake-consul.js';
import { sleep } from '../support/ports.js';

let fake: FakeConsul;
before(async () => { fake = await FakeConsul.start({ sessionTtlMinMs: 100 }); });
after(async () => { await fake.close(); });

interface Entry { Key: string; Value: string | null; ModifyIndex: number; CreateIndex: number; LockIndex: number; Session?: string }

async function call(method: string, path: string, body?: unknown, timeoutMs = 5000): Promise<{ status: number; json: unknown; index: number | null; text: string }> {
  const r = await fetch(`${fake.url}/v1/${path}`, {
    method, signal: AbortSignal.timeout(timeoutMs),
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await r.text();
  let json: unknown = null;
  try { json = JSON.parse(text); } catch { /* plain text */ }
  const idx = r.headers.get('x-consul-index');
  return { status: r.status, json, index: idx === null ? null : Number(idx), text };
}
const put = async (path: string, body: unknown = '') => (await call('PUT', path, body)).json;
const entry = async (key: string): Promise<Entry | null> => {
  const r = await call('GET', `kv/${key}`);
  return r.status === 404 ? null : (r.json as Entry[])[0]!;
};
const session = async (body: Record<string, unknown> = {}): Promise<string> =>
  ((await put('session/create', { TTL: '10s', LockDelay: '0s', ...body })) as { ID: string }).ID;
const b64 = (s: string) => Buffer.from(s).toString('base64');
let n = 0;
const key = (what: string) => `fake-test/${what}-${n++}`;

describe('FAKE consul: KV acquire and release', () => {
  test('a lock held by one session cannot be acquired by another until released', async () => {
    const k = key('lock');
    const [s1, s2] = [await session(), await session()];
    assert.equal(await put(`kv/${k}?acquire=${s1}`, 'one'), true);
    let e = await entry(k);
    assert.equal(e?.Session, s1);
    assert.equal(e?.LockIndex, 1);
    assert.equal(await put(`kv/${k}?acquire=${s2}`, 'two'), false, 'held by s1');
    // The holder may re-acquire: contents updated, LockIndex unchanged.
    assert.equal(await put(`kv/${k}?acquire=${s1}`, 'one again'), true);
    e = await entry(k);
    assert.equal(e?.Value, b64('one again'));
    assert.equal(e?.LockIndex, 1);
    // A plain PUT proceeds although the key is locked, and keeps the holder.
    assert.equal(await put(`kv/${k}`, 'plain'), true);
    assert.equal((await entry(k))?.Session, s1);
    assert.equal(await put(`kv/${k}?release=${s2}`, 'x'), false, 'only the holder releases');
    assert.equal(await put(`kv/${k}?release=${s1}`, 'released'), true);
    e = await entry(k);
    assert.equal(e?.Session, undefined);
    assert.equal(e?.LockIndex, 1, 'release leaves LockIndex');
    assert.equal(await put(`kv/${k}?acquire=${s2}`, 'two'), true);
    assert.equal((await entry(k))?.LockIndex, 2, 'a new holder increments LockIndex');
  });

  test('acquire with an unknown session is an error, not a false', async () => {
    const r = await call('PUT', `kv/${key('bad')}?acquire=00000000-0000-0000-0000-000000000000`, 'x');
    assert.equal(r.status, 500);
    assert.match(r.text, /invalid session/);
  });
});

describe('FAKE consul: sessions', () => {
  test('TTL expiry with behavior delete deletes the held keys, no earlier than TTL, at 2 x TTL', async () => {
    const k = key('ephemeral');
    const s = await session({ TTL: '0.3s', Behavior: 'delete' });
    const t0 = performance.now();
    assert.equal(await put(`kv/${k}?acquire=${s}`, 'v'), true);
    await sleep(400); // past TTL: the TTL is a lower bound, the key must still be there
    assert.ok(await entry(k), 'gone before 2 x TTL');
    while ((await entry(k)) && performance.now() - t0 < 2000) await sleep(20);
    const gone = performance.now() - t0;
    assert.ok(gone >= 580 && gone < 900, `key deleted after ${gone} ms, expected ~600 ms`);
    assert.equal((await call('PUT', `session/renew/${s}`)).status, 404, 'an expired session is unknown');
    assert.deepEqual((await call('GET', `session/info/${s}`)).json, []);
  });

  test('renewal keeps a session alive past its TTL', async () => {
    const k = key('renewed');
    const s = await session({ TTL: '0.2s', Behavior: 'delete' });
    await put(`kv/${k}?acquire=${s}`, 'v');
    for (let i = 0; i < 8; i++) { await sleep(100); assert.equal((await call('PUT', `session/renew/${s}`)).status, 200); }
    assert.ok(await entry(k), 'renewed for 800 ms (4 x TTL) and still held');
  });

  test('invalidation with behavior release keeps the key, clears Session and bumps ModifyIndex', async () => {
    const k = key('released');
    const s = await session({ Behavior: 'release' });
    await put(`kv/${k}?acquire=${s}`, 'v');
    const before = (await entry(k))!;
    assert.equal(await put(`session/destroy/${s}`), true);
    const e = (await entry(k))!;
    assert.equal(e.Session, undefined);
    assert.ok(e.ModifyIndex > before.ModifyIndex);
    assert.equal(await put(`session/destroy/${s}`), true, 'destroy is idempotent');
  });

  test('lock-delay keeps an invalidated lock from being re-acquired for its duration; 0 disables it', async () => {
    const k = key('delayed');
    const holder = await session({ LockDelay: '400ms', Behavior: 'delete' });
    const other = await session();
    await put(`kv/${k}?acquire=${holder}`, 'v');
    await put(`session/destroy/${holder}`);
    assert.equal(await entry(k), null, 'deleted by behavior delete');
    const t0 = performance.now();
    assert.equal(await put(`kv/${k}?acquire=${other}`, 'w'), false, 'refused within lock-delay');
    while (!(await put(`kv/${k}?acquire=${other}`, 'w')) && performance.now() - t0 < 2000) await sleep(20);
    assert.ok(performance.now() - t0 >= 350, 'acquired too early');
    const k2 = key('undelayed');
    const quick = await session({ LockDelay: '0s', Behavior: 'delete' });
    await put(`kv/${k2}?acquire=${quick}`, 'v');
    await put(`session/destroy/${quick}`);
    assert.equal(await put(`kv/${k2}?acquire=${other}`, 'w'), true, 'lock-delay 0: at once');
  });

  test('a TTL below session_ttl_min, or checks the node does not have, are refused', async () => {
    const low = await call('PUT', 'session/create', { TTL: '50ms' });
    assert.equal(low.status, 500);
    assert.match(low.text, /Invalid Session TTL/);
    const check = await call('PUT', 'session/create', { Checks: ['nope'] });
    assert.equal(check.status, 500);
    assert.equal((await call('PUT', 'session/create', { Checks: [] })).status, 200, 'no checks at all is fine');
  });
});

describe('FAKE consul: check-and-set', () => {
  test('cas=0 creates only; cas=<ModifyIndex> updates only that version; DELETE needs a matching non-zero cas', async () => {
    const k = key('cas');
    assert.equal(await put(`kv/${k}?cas=0`, 'first'), true);
    assert.equal(await put(`kv/${k}?cas=0`, 'second'), false, 'exists');
    const v1 = (await entry(k))!.ModifyIndex;
    assert.equal(await put(`kv/${k}?cas=${v1}`, 'second'), true);
    assert.equal(await put(`kv/${k}?cas=${v1}`, 'third'), false, 'stale');
    const v2 = (await entry(k))!.ModifyIndex;
    assert.ok(v2 > v1);
    assert.equal((await call('DELETE', `kv/${k}?cas=0`)).json, false, 'a 0 index will not delete');
    assert.equal((await call('DELETE', `kv/${k}?cas=${v1}`)).json, false);
    assert.ok(await entry(k));
    assert.equal((await call('DELETE', `kv/${k}?cas=${v2}`)).json, true);
    assert.equal(await entry(k), null);
  });

  test('recursive GET and DELETE work on a prefix; a missing key is a 404 that still carries X-Consul-Index', async () => {
    const p = key('tree');
    await put(`kv/${p}/a`, '1');
    await put(`kv/${p}/b`, '');
    const r = await call('GET', `kv/${p}/?recurse`);
    const list = r.json as Entry[];
    assert.deepEqual(list.map((e) => e.Key), [`${p}/a`, `${p}/b`]);
    assert.equal(list[1]!.Value, null, 'an empty value reads as null');
    assert.equal(r.index, Math.max(...list.map((e) => e.ModifyIndex)));
    assert.equal((await call('DELETE', `kv/${p}/?recurse`)).json, true);
    const gone = await call('GET', `kv/${p}/?recurse`);
    assert.equal(gone.status, 404);
    assert.ok(gone.index !== null && gone.index > r.index!, 'the deletion advanced the prefix index');
  });
});

describe('FAKE consul: blocking queries', () => {
  test('a blocking query returns on a change under the prefix with a higher index', async () => {
    const p = key('watched');
    await put(`kv/${p}/x`, '1');
    const first = await call('GET', `kv/${p}/?recurse`);
    const t0 = performance.now();
    const waiting = call('GET', `kv/${p}/?recurse&index=${first.index}&wait=5s`, undefined, 8000);
    await sleep(150);
    await put(`kv/${key('elsewhere')}`, 'not under the prefix');
    await put(`kv/${p}/y`, '2');
    const r = await waiting;
    const ms = performance.now() - t0;
    assert.ok(ms >= 140 && ms < 1000, `answered after ${ms} ms`);
    assert.ok(r.index! > first.index!);
    assert.equal((r.json as Entry[]).length, 2);
  });

  test('without a change it returns after wait (plus at most wait/16), with the same index', async () => {
    const p = key('quiet');
    await put(`kv/${p}/x`, '1');
    const first = await call('GET', `kv/${p}/?recurse`);
    const t0 = performance.now();
    const r = await call('GET', `kv/${p}/?recurse&index=${first.index}&wait=400ms`);
    const ms = performance.now() - t0;
    assert.ok(ms >= 395 && ms < 400 * 17 / 16 + 150, `answered after ${ms} ms`);
    assert.equal(r.index, first.index);
  });

  test('an index behind the current one answers at once', async () => {
    const p = key('behind');
    await put(`kv/${p}/x`, '1');
    const t0 = performance.now();
    await call('GET', `kv/${p}/?recurse&index=1&wait=5s`);
    assert.ok(performance.now() - t0 < 200);
  });
});

describe('FAKE consul: availability switch', () => {
  test('refuse, no-leader and blackhole make it unavailable in their own way; up brings back the same data', async () => {
    const k = key('kept');
    await put(`kv/${k}`, 'v');
    await fake.setMode('refuse');
    await assert.rejects(call('GET', `kv/${k}`, undefined, 1000), (e: Error) => !/timeout|abort/i.test(String(e.cause ?? e.name)));
    await fake.setMode('no-leader');
    const nl = await call('GET', `kv/${k}`);
    assert.equal(nl.status, 500);
    assert.equal(nl.text, 'No cluster leader');
    assert.equal((await call('GET', 'status/leader')).json, '');
    await fake.setMode('blackhole');
    await assert.rejects(call('GET', `kv/${k}`, undefined, 300), (e: Error) => e.name === 'TimeoutError');
    await fake.setMode('up');
    assert.equal((await entry(k))?.Value, b64('v'));
    assert.equal((await call('GET', 'status/leader')).json, '127.0.0.1:8300');
  });

  test('sessions do not expire while the server is down, and restart their full TTL when it is back', async () => {
    const k = key('paused');
    const s = await session({ TTL: '0.2s', Behavior: 'delete' });
    await put(`kv/${k}?acquire=${s}`, 'v');
    await fake.setMode('refuse');
    await sleep(600); // 1.5 x the 2 x TTL expiry
    await fake.setMode('up');
    const back = performance.now();
    assert.ok(await entry(k), 'expired while no server was running');
    while ((await entry(k)) && performance.now() - back < 2000) await sleep(20);
    assert.ok(performance.now() - back >= 350, 'the countdown did not restart in full');
  });
});
