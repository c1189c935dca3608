import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, mkdtempSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, resolveDbUser, run } from '../../src/postgres/exec.js';
import { BIN_DIR } from './harness.js';

describe('spawning PostgreSQL binaries', () => {
  const root = mkdtempSync(join(tmpdir(), 'pgctl-exec-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  test('the child environment drops PATRONI_* and libpq PG* variables', () => {
    process.env['PATRONI_SUPERUSER_PASSWORD'] = 'x';
    process.env['PGPASSWORD'] = 'y';
    try {
      const env = cleanEnv({ uid: null, gid: null, name: 'me', home: null }, { PGPASSFILE: '/p' });
      assert.equal(env['PATRONI_SUPERUSER_PASSWORD'], undefined);
      assert.equal(env['PGPASSWORD'], undefined);
      assert.equal(env['PGPASSFILE'], '/p');
      assert.equal(env['LC_MESSAGES'], 'C');
    } finally {
      delete process.env['PATRONI_SUPERUSER_PASSWORD'];
      delete process.env['PGPASSWORD'];
    }
  });

  test('as root, binaries run as the parent directory owner, else as postgres; never as root', async (t) => {
    if (process.getuid?.() !== 0) { t.skip('needs root'); return; }
    const rootOwned = await resolveDbUser(join(root, 'data'));
    assert.equal(rootOwned.name, 'postgres');
    assert.ok(rootOwned.uid !== null && rootOwned.uid !== 0);
    const owned = join(root, 'owned');
    mkdirSync(owned);
    chownSync(owned, 4242, 4243);
    const byOwner = await resolveDbUser(join(owned, 'data'));
    assert.equal(byOwner.uid, 4242);
    assert.equal(byOwner.gid, 4243, 'an owner without a passwd entry keeps the directory group');
    const r = await run('/usr/bin', 'id', ['-u'], { user: rootOwned, timeoutMs: 5000 });
    assert.equal(r.output.trim(), String(rootOwned.uid));
  });

  test('a binary that hangs is killed at its timeout', async () => {
    const me = await resolveDbUser(join(root, 'x'));
    const t0 = Date.now();
    const r = await run('/bin', 'sleep', ['30'], { user: me, timeoutMs: 300 });
    assert.equal(r.timedOut, true);
    assert.ok(Date.now() - t0 < 5000);
  });

  test('output lines are forwarded, with \\r also ending a line', async () => {
    const me = await resolveDbUser(join(root, 'x'));
    const lines: string[] = [];
    await run('/bin', 'sh', ['-c', 'printf "a\\rb\\nc"'], { user: me, timeoutMs: 5000, onLine: (l) => lines.push(l) });
    assert.deepEqual(lines, ['a', 'b', 'c']);
    const v = await run(BIN_DIR, 'pg_ctl', ['--version'], { user: me, timeoutMs: 5000 });
    assert.match(v.output, /PostgreSQL\) 15/);
    assert.ok(statSync(root).isDirectory());
  });
});
