import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { serverLogPath } from '../../src/postgres/control.js';
import { createServer } from 'node:net';
import { PostgresStartError, PostgresStateError } from '../../src/postgres/errors.js';
import { PostmasterWatch } from '../../src/ha/postmaster-watch.js';
import { APP_PASSWORD, freePort, PgTestEnv, REPLICATION, REWIND, SUPERUSER, waitFor } from './harness.js';

describe('local instance lifecycle (real PostgreSQL 15)', () => {
  let env: PgTestEnv;
  before(() => { env = PgTestEnv.create(); });
  after(async () => { await env.cleanup(); });

  test('probe of an empty (missing) data directory', async () => {
    const pg = env.add(env.settings('nothing', await freePort()));
    const p = await pg.probe();
    assert.equal(p.dataDir, 'empty');
    assert.equal(p.running, false);
    assert.equal(p.sysid, null);
    assert.equal(p.controlState, null);
  });

  test('initdb, start, query, stop fast, start, stop immediate', async () => {
    const pg = env.add(env.settings('solo', await freePort()));
    await pg.bootstrap();

    const up = await pg.probe();
    assert.equal(up.dataDir, 'initialized');
    assert.equal(up.running, true);
    assert.equal(up.inRecovery, false);
    assert.equal(up.timeline, 1);
    assert.ok((up.walPosition ?? 0) > 0, 'a primary reports its flush LSN');
    assert.match(up.sysid ?? '', /^\d+$/);
    assert.equal(up.controlState, 'in production');
    assert.equal(up.standbySignal, false);
    assert.equal(up.following, null);
    assert.ok((up.serverVersion ?? 0) >= 150000);
    assert.ok(up.postmasterStartTime !== null && !Number.isNaN(Date.parse(up.postmasterStartTime)));

    const rows = await pg.sql('SELECT $1::int + 1 AS n', [41]);
    assert.equal(rows[0]?.['n'], 42);

    // Roles: replication user, rewind user with the grants pg_rewind needs, the bootstrap user.
    const roles = await pg.sql(`SELECT rolname, rolreplication, rolcreatedb, rolconnlimit FROM pg_roles
      WHERE rolname = ANY($1) ORDER BY rolname`, [[REPLICATION.username, REWIND.username, 'app']]);
    assert.deepEqual(roles.map((r) => [r['rolname'], r['rolreplication'], r['rolcreatedb'], r['rolconnlimit']]), [
      ['app', false, true, 5], ['repl', true, false, -1], ['rewinder', false, false, -1],
    ]);
    const grants = await pg.sql(`SELECT bool_and(has_function_privilege($1, f, 'EXECUTE')) AS ok FROM unnest($2::text[]) f`,
      [REWIND.username, ['pg_catalog.pg_ls_dir(text, boolean, boolean)', 'pg_catalog.pg_stat_file(text, boolean)',
        'pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean)']]);
    assert.equal(grants[0]?.['ok'], true);

    assert.equal(await pg.stop('fast'), true);
    const down = await pg.probe();
    assert.equal(down.running, false);
    assert.equal(down.postmasterPid, null);
    assert.equal(down.controlState, 'shut down');
    assert.equal(down.sysid, up.sysid, 'a stopped instance still reports its system id');
    assert.equal(down.dataDir, 'initialized');

    await pg.start();
    assert.equal((await pg.probe()).running, true);
    await assert.rejects(pg.start(), PostgresStateError, 'starting twice is refused');
    assert.equal(await pg.stop('immediate'), true);
    assert.equal((await pg.probe()).controlState, 'in production', 'an immediate stop leaves a crashed state');
    assert.equal(await pg.stop('fast'), false, 'stopping a stopped server reports false');
  });

  test('a SIGKILLed postmaster is noticed through the closed kept connection, long before the poll', async () => {
    const pg = env.add(env.settings('watched', await freePort()));
    await pg.bootstrap();
    await pg.sql('SELECT 1'); // the kept connection exists
    const pid = (await pg.probe()).postmasterPid;
    assert.ok(pid);
    let diedAt = 0;
    const w = new PostmasterWatch(() => { diedAt = performance.now(); }, 60_000);
    try {
      w.watch(pid);
      const killedAt = performance.now();
      process.kill(pid, 'SIGKILL');
      await waitFor('the watch to report the death', async () => diedAt > 0, 5_000);
      assert.ok(diedAt - killedAt < 2_000, `noticed after ${(diedAt - killedAt).toFixed(0)} ms (poll is 60 s)`);
    } finally {
      w.close();
    }
  });

  test('data dir is 0700, pgpass is 0600 and owned by the DB user, passwords stay out of the log', async () => {
    const pg = env.instances.find((i) => i.settings.name === 'solo');
    assert.ok(pg);
    const s = pg.settings;
    assert.equal(statSync(s.dataDir).mode & 0o777, 0o700);
    const pass = statSync(s.pgpassPath);
    assert.equal(pass.mode & 0o777, 0o600);
    assert.equal(pass.uid, statSync(s.dataDir).uid, 'pgpass belongs to the DB user');
    if (process.getuid?.() === 0) assert.notEqual(statSync(s.dataDir).uid, 0, 'PostgreSQL files are not root-owned');
    const pgpass = readFileSync(s.pgpassPath, 'utf8');
    assert.match(pgpass, /^\*:\*:\*:postgres:su-S3cret\\:pw$/m, "':' in a password is escaped");
    const log = readFileSync(serverLogPath(s), 'utf8');
    for (const secret of [SUPERUSER.password, REPLICATION.password, REWIND.password, APP_PASSWORD]) {
      assert.ok(!log.includes(secret), 'server log must not contain a password');
    }
    await assert.rejects(pg.bootstrap(), PostgresStateError, 'initdb into a non-empty directory is refused');
  });

  test('QHB names: managed config, hba and ident files use the configured names', async () => {
    const pg = env.add(env.settings('qhb', await freePort(), {
      configBaseName: 'qhb', hbaFile: 'qhb_hba.conf', identFile: 'qhb_ident.conf',
    }));
    await pg.bootstrap();
    const dir = pg.settings.dataDir;
    for (const f of ['qhb.conf', 'qhb.base.conf', 'qhb.standby.conf', 'qhb_hba.conf', 'qhb_ident.conf']) {
      assert.ok(existsSync(join(dir, f)), `${f} exists`);
    }
    assert.ok(!existsSync(join(dir, 'postgresql.conf')), "initdb's postgresql.conf became qhb.base.conf");
    const managed = readFileSync(join(dir, 'qhb.conf'), 'utf8');
    assert.match(managed, /include '.*\/qhb\.base\.conf'/);
    assert.match(managed, new RegExp(`port = ${pg.settings.port}`));
    const hba = readFileSync(join(dir, 'qhb_hba.conf'), 'utf8').split('\n');
    assert.match(hba[0] ?? '', /^# BEGIN orchestrator/, "the agent's own access comes first");
    assert.ok(hba.includes(`host replication ${REPLICATION.username} 127.0.0.1/32 scram-sha-256`));
    const shown = await pg.sql(`SELECT current_setting('config_file') AS c, current_setting('hba_file') AS h,
      current_setting('ident_file') AS i, current_setting('cluster_name') AS n, current_setting('wal_log_hints') AS w`);
    assert.deepEqual(shown[0], {
      c: join(dir, 'qhb.conf'), h: join(dir, 'qhb_hba.conf'), i: join(dir, 'qhb_ident.conf'), n: 'testcluster', w: 'on',
    });
    assert.equal(await pg.stop('fast'), true);
  });

  test('reload applies changed settings; a restart-only one shows as pending until restart', async () => {
    const old = env.instances.find((i) => i.settings.name === 'qhb');
    assert.ok(old);
    await old.start();
    const pg = env.add({ ...old.settings, parameters: { ...old.settings.parameters, work_mem: '7MB', shared_buffers: '24MB' } });
    const started = (await pg.probe()).postmasterStartTime;
    await pg.reload();
    await waitFor('work_mem reloaded', async () => (await pg.sql("SELECT current_setting('work_mem') AS v"))[0]?.['v'] === '7MB');
    assert.deepEqual((await pg.probe()).pendingRestart, ['shared_buffers']);
    await pg.restart();
    const p = await pg.probe();
    assert.deepEqual(p.pendingRestart, []);
    assert.notEqual(p.postmasterStartTime, started);
    assert.equal((await pg.sql("SELECT current_setting('shared_buffers') AS v"))[0]?.['v'], '24MB');
    await pg.stop('fast');
  });

  test('a start that fails reports the server log tail', async () => {
    const pg = env.instances.find((i) => i.settings.name === 'solo');
    assert.ok(pg);
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(pg.settings.port, '127.0.0.1', r));
    try {
      await assert.rejects(pg.start(), (e: unknown) =>
        e instanceof PostgresStartError && /could not (bind|create listen socket)/.test(e.logTail) && !e.message.includes(SUPERUSER.password));
    } finally {
      await new Promise((r) => blocker.close(r));
    }
    assert.equal((await pg.probe()).running, false);
  });
});
