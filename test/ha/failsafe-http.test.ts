/**
 * POST /failsafe over real HTTP on loopback: the agent's poster (facts.ts) against the REST server
 * (handlers/admin.ts) backed by the FakeBackend, with Basic credentials as restapi.authentication
 * requires; and GET /failsafe falling back to the last view while the DCS is down.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { failsafeRound } from '../../src/ha/failsafe.js';
import { httpFailsafePoster } from '../../src/ha/facts.js';
import { EMPTY_CLUSTER } from '../../src/dcs/types.js';
import { startFake } from '../api/client.js';

const AUTH = { username: 'patroni', password: 'rest-secret' };
const BODY = { name: 'a', conn_url: 'postgres://127.0.0.1:5432/postgres', api_url: 'http://127.0.0.1:1/patroni' };

describe('POST /failsafe over HTTP', () => {
  test('a round with the right credentials is accepted (plain-text "Accepted") and the body reaches the backend', async () => {
    const { backend, port } = await startFake(AUTH);
    const list = { a: BODY.api_url, b: `http://127.0.0.1:${port}/patroni` };
    const r = await failsafeRound({ list, me: 'a', body: BODY, timeoutMs: 2000, post: httpFailsafePoster(AUTH), now: () => performance.now() });
    assert.deepEqual(r, { ok: true, detail: 'all 1 member confirmed failsafe' });
    assert.deepEqual(backend.calls.find((c) => c.op === 'failsafe')?.arg, BODY);
  });

  test('without credentials the member answers 401 and the round fails, naming the code', async () => {
    const { port } = await startFake(AUTH);
    const list = { a: BODY.api_url, b: `http://127.0.0.1:${port}/patroni` };
    const r = await failsafeRound({ list, me: 'a', body: BODY, timeoutMs: 2000, post: httpFailsafePoster(null), now: () => performance.now() });
    assert.equal(r.ok, false);
    assert.match(r.detail, /b \(HTTP 401/);
  });

  test('a refusal keeps its status and text; a body without name is a 400 naming the field', async () => {
    const { backend, port } = await startFake();
    backend.failsafeAnswer = { status: 500, body: 'Running as a leader' };
    const res = await fetch(`http://127.0.0.1:${port}/failsafe`, { method: 'POST', body: JSON.stringify(BODY), headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 500);
    assert.equal(await res.text(), 'Running as a leader');
    const bad = await fetch(`http://127.0.0.1:${port}/failsafe`, { method: 'POST', body: JSON.stringify({ api_url: 'x' }) });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /field \\"name\\"/);
  });

  test('GET /failsafe shows the last known list while the DCS is down', async () => {
    const { backend, port } = await startFake();
    backend.view = { ...EMPTY_CLUSTER, failsafe: { a: 'http://a/patroni', b: 'http://b/patroni' } };
    backend.dcsDown = true;
    const res = await fetch(`http://127.0.0.1:${port}/failsafe`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { a: 'http://a/patroni', b: 'http://b/patroni' });
    backend.view = EMPTY_CLUSTER;
    assert.equal((await fetch(`http://127.0.0.1:${port}/failsafe`)).status, 502);
  });
});
