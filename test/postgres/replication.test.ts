/**
 * One scenario, step by step, on two real PostgreSQL 15 servers: clone, stream, promote the
 * replica, let the old primary diverge, detect it, rewind it, and stream again.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { PostgresStateError } from '../../src/postgres/errors.js';
import type { PostgresControl } from '../../src/postgres/instance.js';
import { slotNameFromMember } from '../../src/postgres/slots.js';
import { connTo, freePort, PgTestEnv, waitFor } from './harness.js';

describe('replication, promotion and rewind (real PostgreSQL 15)', () => {
  let env: PgTestEnv;
  let a: PostgresControl;
  let b: PostgresControl;

  const has = async (pg: PostgresControl, v: string): Promise<boolean> =>
    (await pg.sql('SELECT count(*)::int AS n FROM t WHERE v = $1', [v]))[0]?.['n'] === 1;

  before(async () => {
    env = PgTestEnv.create();
    a = env.add(env.settings('a', await freePort()));
    b = env.add(env.settings('b', await freePort()));
    await a.bootstrap();
    await a.sql('CREATE TABLE t (v text)');
  });
  after(async () => { await env.cleanup(); });

  test('a replica cloned with pg_basebackup streams from the primary', async () => {
    const slots = await a.ensurePhysicalSlots([slotNameFromMember('b')], []);
    assert.deepEqual(slots.created, ['b']);
    const progress: string[] = [];
    await b.basebackup(connTo(a), (l) => progress.push(l));
    assert.ok(progress.some((l) => /kB/.test(l)), `progress lines were forwarded: ${progress.join(' | ')}`);
    await b.start();
    await a.sql("INSERT INTO t VALUES ('one')");
    await waitFor("row 'one' on the replica", () => has(b, 'one'));

    const pb = await b.probe();
    assert.equal(pb.running, true);
    assert.equal(pb.inRecovery, true);
    assert.equal(pb.timeline, 1);
    assert.equal(pb.following, 'a');
    assert.equal(pb.standbySignal, true);
    assert.equal(pb.walReceiver, 'streaming', 'the row arrived, so its WAL receiver streams');
    assert.equal(pb.sysid, (await a.probe()).sysid, 'a clone shares the system id');
    const pa = await a.probe();
    assert.equal(pa.walReceiver, null, 'a primary runs no WAL receiver');
    assert.ok((pb.walPosition ?? 0) > 0 && (pb.walPosition ?? 0) <= (pa.walPosition ?? 0));
    const row = pa.replication.find((r) => r.applicationName === 'b');
    assert.equal(row?.state, 'streaming');
    assert.ok((row?.flushLsn ?? 0) > 0);
    const slot = await a.sql("SELECT active FROM pg_replication_slots WHERE slot_name = 'b'");
    assert.equal(slot[0]?.['active'], true, 'the replica streams through its slot');
  });

  test('a replica on the leader timeline needs no rewind; unknown when the leader is unreachable', async () => {
    assert.equal(await b.needsRewind(connTo(a)), false);
    assert.equal(await b.needsRewind({ host: '127.0.0.1', port: await freePort(), member: 'gone' }), null);
    await assert.rejects(b.rewind(connTo(a)), PostgresStateError, 'a running server is never rewound');
  });

  test('promote turns the replica into a primary on timeline 2', async () => {
    await b.promote(20);
    const p = await b.probe();
    assert.equal(p.inRecovery, false);
    assert.equal(p.timeline, 2);
    assert.equal(p.following, null);
    assert.equal(p.standbySignal, false);
  });

  test('the diverged old primary needs a rewind, is rewound, and streams from the new primary', async () => {
    await a.sql("INSERT INTO t VALUES ('lost')"); // written on the old timeline after the promotion
    assert.equal(await a.stop('immediate'), true); // a crash: rewind must recover it first
    await b.sql("INSERT INTO t VALUES ('two')");
    assert.deepEqual((await b.ensurePhysicalSlots(['a'], [])).created, ['a']);

    assert.equal(await a.needsRewind(connTo(b)), true);
    const r = await a.rewind(connTo(b));
    assert.equal(r.ok, true, r.output);
    assert.ok(r.divergedWalDir && existsSync(r.divergedWalDir), 'WAL of the old timeline is kept aside');
    assert.ok(readdirSync(r.divergedWalDir).some((n) => n.startsWith('00000001')));

    await a.start({ asStandby: true, primaryConninfo: connTo(b) });
    await waitFor("row 'two' on the rewound node", () => has(a, 'two'));
    assert.equal(await has(a, 'lost'), false, 'the diverged write is gone');
    const p = await a.probe();
    assert.equal(p.inRecovery, true);
    assert.equal(p.timeline, 2);
    assert.equal(p.following, 'b');
    assert.equal(await a.needsRewind(connTo(b)), false);
  });

  test('changeUpstream re-points a running standby with a reload, no restart', async () => {
    const started = (await a.probe()).postmasterStartTime;
    assert.deepEqual(await a.changeUpstream(null), { restartNeeded: false });
    await waitFor('walreceiver gone', async () =>
      (await a.sql('SELECT count(*)::int AS n FROM pg_stat_wal_receiver'))[0]?.['n'] === 0);
    assert.equal((await a.probe()).following, null);

    assert.deepEqual(await a.changeUpstream(connTo(b)), { restartNeeded: false });
    await b.sql("INSERT INTO t VALUES ('three')");
    await waitFor("row 'three' after re-pointing", () => has(a, 'three'));
    const p = await a.probe();
    assert.equal(p.following, 'b');
    assert.equal(p.postmasterStartTime, started, 'the server was not restarted');
  });

  test('a failed clone removes the partial data directory', async () => {
    const c = env.add(env.settings('c', await freePort()));
    const nobody = await freePort();
    await assert.rejects(c.basebackup({ host: '127.0.0.1', port: nobody, member: 'x' }, () => undefined), /pg_basebackup/);
    assert.equal(existsSync(c.settings.dataDir), false);
    assert.equal((await c.probe()).dataDir, 'empty');
  });
});
