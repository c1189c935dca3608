import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mergePatch } from '../../src/api/handlers/config.js';
import { basic, send, sendRaw, startFake } from './client.js';

const big = 'x'.repeat(70 * 1024);

/** [what, method, path, options, expected status] */
type Case = [string, string, string, Parameters<typeof send>[3], number];

const MALFORMED: Case[] = [
  ['switchover: invalid JSON', 'POST', '/switchover', { raw: '{"leader": "a",' }, 400],
  ['switchover: JSON list', 'POST', '/switchover', { raw: '["a"]' }, 400],
  ['switchover: JSON string', 'POST', '/switchover', { raw: '"a"' }, 400],
  ['switchover: JSON null', 'POST', '/switchover', { raw: 'null' }, 400],
  ['switchover: empty body with length 0', 'POST', '/switchover', { raw: '' }, 400],
  ['switchover: chunked body without Content-Length', 'POST', '/switchover', { raw: '{"leader":"a"}', chunked: true }, 411],
  ['switchover: leader is a number', 'POST', '/switchover', { body: { leader: 1 } }, 400],
  ['switchover: candidate is a list', 'POST', '/switchover', { body: { leader: 'a', candidate: ['b'] } }, 400],
  ['switchover: unknown key', 'POST', '/switchover', { body: { leader: 'a', candiate: 'b' } }, 400],
  ['switchover: scheduled_at not a time', 'POST', '/switchover', { body: { leader: 'a', scheduled_at: 'tomorrow' } }, 400],
  ['switchover: scheduled_at without a time zone', 'POST', '/switchover', { body: { leader: 'a', scheduled_at: '2030-01-01T10:00:00' } }, 400],
  ['switchover: candidate and member disagree', 'POST', '/switchover', { body: { leader: 'a', candidate: 'b', member: 'c' } }, 400],
  ['switchover: wait is a string', 'POST', '/switchover', { body: { leader: 'a', wait: 'yes' } }, 400],
  ['switchover: empty leader', 'POST', '/switchover', { body: { leader: '' } }, 400],
  ['switchover: huge body', 'POST', '/switchover', { raw: `{"leader":"${big}"}` }, 413],
  ['failover: huge chunked body', 'POST', '/failover', { raw: `{"candidate":"${big}"}`, chunked: true }, 411],
  ['restart: huge chunked body', 'POST', '/restart', { raw: `{"schedule":"${big}"}`, chunked: true }, 413],
  ['failover: bad JSON', 'POST', '/failover', { raw: '{candidate: b}' }, 400],
  ['restart: role not a role', 'POST', '/restart', { body: { role: 'boss' } }, 400],
  ['restart: timeout negative', 'POST', '/restart', { body: { timeout: -5 } }, 400],
  ['restart: timeout a string', 'POST', '/restart', { body: { timeout: '5' } }, 400],
  ['restart: unknown key', 'POST', '/restart', { body: { now: true } }, 400],
  ['restart: bad postgres_version', 'POST', '/restart', { body: { postgres_version: 'fifteen' } }, 400],
  ['restart: unparsable schedule', 'POST', '/restart', { body: { schedule: '2030-13-45T99:00:00Z' } }, 422],
  ['reinitialize: force is a string', 'POST', '/reinitialize', { body: { force: 'true' } }, 400],
  ['reload: unexpected field', 'POST', '/reload', { body: { now: true } }, 400],
  ['config PATCH: list body', 'PATCH', '/config', { raw: '[1,2]' }, 400],
  ['config PATCH: ttl not a number', 'PATCH', '/config', { body: { ttl: 'soon' } }, 400],
  ['config PATCH: timing rule broken', 'PATCH', '/config', { body: { loop_wait: 30 } }, 400],
  ['config PATCH: archive_command', 'PATCH', '/config', { body: { postgresql: { parameters: { archive_command: 'rm -rf /' } } } }, 400],
  ['config PUT: restore_command in recovery_conf', 'PUT', '/config', { body: { postgresql: { recovery_conf: { restore_command: 'sh' } } } }, 400],
  ['config PUT: string body', 'PUT', '/config', { raw: '"ttl"' }, 400],
  ['wrong method on /switchover', 'PUT', '/switchover', { body: {} }, 405],
  ['wrong method on /cluster', 'DELETE', '/cluster', {}, 405],
  ['GET on a POST-only path', 'GET', '/reinitialize', {}, 405],
  ['unknown POST path', 'POST', '/sigterm', { body: {} }, 404],
];

describe('malformed requests to mutating endpoints', () => {
  test(`${MALFORMED.length} malformed requests (and 3 without a body) each get their 4xx, and the server keeps answering`, async () => {
    const { backend, port } = await startFake();
    for (const [what, method, path, opts, status] of MALFORMED) {
      const r = await send(port, method, path, opts);
      assert.equal(r.status, status, `${what}: ${r.text}`);
      if (r.status !== 405 || r.text !== '') {
        const body = r.json() as { error?: unknown };
        assert.equal(typeof body.error, 'string', `${what}: JSON error body`);
      }
      assert.equal((await send(port, 'GET', '/patroni')).status, 200, `server still answers after: ${what}`);
    }
    // No body and no Content-Length at all (node's client would add "Content-Length: 0").
    for (const path of ['/switchover', '/failover', '/config']) {
      const method = path === '/config' ? 'PATCH' : 'POST';
      assert.equal(await sendRaw(port, `${method} ${path} HTTP/1.1\r\nHost: x\r\n\r\n`), 411, `${method} ${path} without a body`);
    }
    assert.equal(backend.calls.length, 0, 'no malformed request reached the backend');
  });

  test('error messages name the field and what was expected', async () => {
    const { port } = await startFake();
    const err = async (method: string, path: string, body: unknown) => ((await send(port, method, path, { body })).json() as { error: string }).error;
    assert.match(await err('POST', '/switchover', { leader: 1 }), /field "leader": expected a string, got number 1/);
    assert.match(await err('POST', '/switchover', { leader: 'a', candiate: 'b' }), /unknown field "candiate"; expected one of leader, candidate/);
    assert.match(await err('PATCH', '/config', { ttl: 'soon' }), /^ttl: expected/);
    assert.match(await err('PATCH', '/config', { postgresql: { parameters: { Archive_Command: 'x' } } }),
      /postgresql\.parameters\.Archive_Command: runs a shell command.*local YAML/);
  });

  test('405 carries an Allow header; an unknown method is 405 too', async () => {
    const { port } = await startFake();
    const r = await send(port, 'PUT', '/switchover', { body: {} });
    assert.equal(r.headers['allow'], 'POST, DELETE');
    assert.equal((await send(port, 'PROPFIND', '/patroni')).status, 405);
  });

  test('garbage on the socket and slow clients do not stop the server', async () => {
    const { port } = await startFake();
    assert.equal(await sendRaw(port, 'NOT HTTP AT ALL\r\n\r\n'), 400);
    assert.equal(await sendRaw(port, 'POST /switchover HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n'), 400);
    // A client that promises a body and never sends it holds only its own connection.
    const stalled = sendRaw(port, 'POST /switchover HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{', 300);
    assert.equal((await send(port, 'GET', '/health')).status, 200);
    assert.equal(await stalled, null);
  });

  test('a handler that throws gives a 500 without a stack trace or internal detail', async () => {
    const { backend, port, warnings } = await startFake();
    backend.throwOn.add('reload');
    const r = await send(port, 'POST', '/reload');
    assert.equal(r.status, 500);
    assert.doesNotMatch(r.text, /exploded|secret|at .*\.js/);
    assert.ok(warnings.some((w) => w.includes('reload exploded')), 'the detail is logged');
    backend.throwOn.add('health');
    assert.equal((await send(port, 'GET', '/primary')).status, 500);
    assert.equal((await send(port, 'GET', '/patroni')).status, 200);
  });

  test('an unreachable DCS is a 503 on /cluster and PATCH /config', async () => {
    const { backend, port } = await startFake();
    backend.dcsDown = true;
    assert.equal((await send(port, 'GET', '/cluster')).status, 503);
    assert.equal((await send(port, 'PATCH', '/config', { body: { ttl: 40 } })).status, 503);
  });
});

describe('authentication', () => {
  test('mutating requests need the right Basic credentials; GET/HEAD/OPTIONS never do', async () => {
    const { backend, port } = await startFake({ username: 'admin', password: 's3cret' });
    const none = await send(port, 'POST', '/reload');
    assert.equal(none.status, 401);
    assert.equal(none.headers['www-authenticate'], 'Basic realm="orchestrator"');
    assert.match((none.json() as { error: string }).error, /no auth header/);
    const wrong = await send(port, 'POST', '/reload', { headers: basic('admin', 'guess') });
    assert.equal(wrong.status, 401);
    assert.doesNotMatch(wrong.text, /s3cret|guess/);
    assert.equal((await send(port, 'POST', '/reload', { headers: { Authorization: 'Bearer abc' } })).status, 401);
    assert.equal((await send(port, 'POST', '/reload', { headers: basic('admin', 's3cret') })).status, 200);
    assert.equal((await send(port, 'PATCH', '/config', { body: { pause: true } })).status, 401);
    // Refused before the body is read: even a huge body gets the 401.
    assert.equal((await send(port, 'POST', '/switchover', { raw: `{"a":"${big}"}` })).status, 401);
    for (const m of ['GET', 'HEAD', 'OPTIONS']) assert.equal((await send(port, m, '/primary')).status, 200);
    assert.equal((await send(port, 'GET', '/cluster')).status, 200);
    assert.deepEqual(backend.calls.map((c) => c.op), ['reload']);
  });
});

describe('admin endpoints pass validated requests to the backend', () => {
  test('switchover and failover bodies; member is an alias of candidate', async () => {
    const { backend, port } = await startFake();
    backend.adminResult = { status: 200, body: 'Successfully switched over to "b"' };
    const r = await send(port, 'POST', '/switchover', { body: { leader: 'a', candidate: 'b', wait: false } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json(), { message: 'Successfully switched over to "b"' });
    backend.adminResult = { status: 412, body: 'candidate does not exists' };
    const f = await send(port, 'POST', '/failover', { body: { member: 'c' } });
    assert.equal(f.status, 412);
    assert.deepEqual(f.json(), { error: 'candidate does not exists' });
    assert.deepEqual(backend.calls, [
      { op: 'switchover', arg: { leader: 'a', member: 'b', wait: false } },
      { op: 'failover', arg: { member: 'c' } },
    ]);
  });

  test('restart, reinitialize, reload and the DELETEs reach the backend', async () => {
    const { backend, port } = await startFake();
    backend.adminResult = { status: 202, body: 'Restart scheduled' };
    assert.equal((await send(port, 'POST', '/restart', { body: { restart_pending: true, role: 'replica', schedule: '2030-01-01T10:00:00+00:00' } })).status, 202);
    assert.equal((await send(port, 'POST', '/restart')).status, 202, 'restart body is optional');
    assert.equal((await send(port, 'POST', '/reinitialize', { body: { force: true } })).status, 202);
    assert.equal((await send(port, 'POST', '/reload', { body: {} })).status, 202);
    assert.equal((await send(port, 'DELETE', '/restart')).status, 202);
    assert.equal((await send(port, 'DELETE', '/switchover')).status, 202);
    assert.deepEqual(backend.calls.map((c) => [c.op, c.arg]), [
      ['restart', { restart_pending: true, role: 'replica', schedule: '2030-01-01T10:00:00+00:00' }],
      ['restart', {}],
      ['reinitialize', true],
      ['reload', undefined],
      ['cancelScheduledRestart', undefined],
      ['cancelScheduledSwitchover', undefined],
    ]);
  });
});

describe('PATCH and PUT /config', () => {
  test('merge patch: null deletes, nested objects merge', () => {
    assert.deepEqual(mergePatch({ a: 1, b: { c: 2, d: 3 } }, { a: null, b: { c: null, e: 4 }, f: [1] }), { b: { d: 3, e: 4 }, f: [1] });
    assert.deepEqual(mergePatch({ a: 1 }, 5), 5);
  });

  test('PATCH writes the merged config with CAS on the version and wakes the loop', async () => {
    const { backend, port } = await startFake();
    const r = await send(port, 'PATCH', '/config', { body: { pause: true, postgresql: { parameters: { work_mem: '8MB' } } } });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json(), { ttl: 30, loop_wait: 10, retry_timeout: 10, pause: true, postgresql: { parameters: { work_mem: '8MB' } } });
    assert.deepEqual(backend.calls[0], { op: 'writeDynamicConfig', arg: { value: r.json(), expectVersion: '7' } });
    assert.equal(backend.wakeups, 1);
    const resume = await send(port, 'PATCH', '/config', { body: { pause: null } });
    assert.equal((resume.json() as Record<string, unknown>)['pause'], undefined);
    // Removing a shell-command parameter is allowed; only setting one is refused.
    assert.equal((await send(port, 'PATCH', '/config', { body: { postgresql: { parameters: { archive_command: null } } } })).status, 200);
  });

  test('a version conflict is a 409; a missing config is 503 for PATCH and 502 for GET', async () => {
    const { backend, port } = await startFake();
    const realWrite = backend.writeDynamicConfig.bind(backend);
    backend.writeDynamicConfig = async (v) => realWrite(v, 'stale');
    assert.equal((await send(port, 'PATCH', '/config', { body: { ttl: 40 } })).status, 409);
    backend.config = null;
    assert.equal((await send(port, 'PATCH', '/config', { body: { ttl: 40 } })).status, 503);
    assert.equal((await send(port, 'GET', '/config')).status, 502);
  });

  test('PUT replaces the config, and an unrelated pre-existing oddity does not block a change', async () => {
    const { backend, port } = await startFake();
    backend.config = { value: { ttl: 30, loop_wait: 10, retry_timeout: 10, legacy_key: 1 }, version: '3' };
    assert.equal((await send(port, 'PATCH', '/config', { body: { maximum_lag_on_failover: 2048 } })).status, 200);
    const r = await send(port, 'PUT', '/config', { body: { ttl: 20, loop_wait: 5, retry_timeout: 5 } });
    assert.equal(r.status, 200);
    assert.deepEqual(backend.config?.value, { ttl: 20, loop_wait: 5, retry_timeout: 5 });
    assert.equal((await send(port, 'PUT', '/config', { body: { ttl: 20, loop_wait: 5, retry_timeout: 5, bogus: 1 } })).status, 400);
  });
});
