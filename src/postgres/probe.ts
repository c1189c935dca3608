/**
 * probe(): the facts the HA cycle decides on, gathered in at most ~2 s whatever state the server
 * is in (a hung server makes the query part time out; the file-based facts are still reported).
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { query } from './client.js';
import { postmasterPid, type PgContext } from './control.js';
import { CD_STATE, CD_SYSID, readControlData } from './controldata.js';
import { dirEntries, hasStandbySignal, readFollowing } from './files.js';
import { parseLsnOrNull } from './lsn.js';
import { PRIMARY_TLI_SQL, REPLICA_TLI_SQL } from './queries.js';
import type { PgProbe, ReplicationRow } from './types.js';

/** Whole-probe budget (the brief of the HA loop: a probe must never hang). */
export const PROBE_BUDGET_MS = 2000;

const PROBE_SQL = `
  SELECT pg_catalog.pg_is_in_recovery() AS rec,
    CASE WHEN pg_catalog.pg_is_in_recovery() THEN NULL ELSE pg_catalog.pg_current_wal_flush_lsn()::text END AS flush_lsn,
    CASE WHEN pg_catalog.pg_is_in_recovery() THEN NULL ELSE ${PRIMARY_TLI_SQL} END AS primary_tli,
    ${REPLICA_TLI_SQL} AS replica_tli,
    pg_catalog.pg_last_wal_receive_lsn()::text AS receive_lsn,
    pg_catalog.pg_last_wal_replay_lsn()::text AS replay_lsn,
    (SELECT status FROM pg_catalog.pg_stat_wal_receiver LIMIT 1) AS receiver,
    current_setting('server_version_num')::int AS version,
    pg_catalog.pg_postmaster_start_time() AS started,
    (SELECT system_identifier::text FROM pg_catalog.pg_control_system()) AS sysid,
    ARRAY(SELECT name FROM pg_catalog.pg_settings WHERE pending_restart ORDER BY name) AS pending,
    (SELECT json_agg(json_build_object('name', application_name, 'state', state, 'sync', sync_state,
        'flush', flush_lsn::text, 'replay', replay_lsn::text) ORDER BY application_name)
       FROM pg_catalog.pg_stat_replication) AS repl`;

const EMPTY: PgProbe = {
  dataDir: 'empty', sysid: null, postmasterPid: null, running: false, inRecovery: false, timeline: null,
  walPosition: null, receivedLsn: null, replayedLsn: null, controlState: null, standbySignal: false,
  following: null, walReceiver: null, replication: [], serverVersion: null, postmasterStartTime: null, pendingRestart: [],
};

interface ReplJson { name: string; state: string | null; sync: string | null; flush: string | null; replay: string | null }

function replicationRows(v: unknown): ReplicationRow[] {
  if (!Array.isArray(v)) return [];
  return (v as ReplJson[]).map((r) => ({
    applicationName: r.name, state: r.state, syncState: r.sync,
    flushLsn: parseLsnOrNull(r.flush), replayLsn: parseLsnOrNull(r.replay),
  }));
}

function maxOrNull(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return Math.max(a, b);
}

/** Facts only a live server can give; null when it does not answer within `budgetMs`. */
async function liveFacts(ctx: PgContext, budgetMs: number): Promise<Partial<PgProbe> | null> {
  const rows = await query(ctx.target, PROBE_SQL, [], budgetMs).catch(() => null);
  const r = rows?.[0];
  if (!r) return null;
  const rec = r['rec'] === true;
  const received = parseLsnOrNull(r['receive_lsn'] as string | null);
  const replayed = parseLsnOrNull(r['replay_lsn'] as string | null);
  const started = r['started'];
  return {
    running: true,
    inRecovery: rec,
    timeline: Number(rec ? r['replica_tli'] : r['primary_tli']),
    walPosition: rec ? maxOrNull(received, replayed) : parseLsnOrNull(r['flush_lsn'] as string | null),
    receivedLsn: received,
    replayedLsn: replayed,
    walReceiver: typeof r['receiver'] === 'string' ? r['receiver'] : null,
    serverVersion: Number(r['version']),
    postmasterStartTime: started instanceof Date ? started.toISOString() : null,
    pendingRestart: Array.isArray(r['pending']) ? (r['pending'] as string[]) : [],
    replication: replicationRows(r['repl']),
    ...(typeof r['sysid'] === 'string' ? { sysid: r['sysid'] } : {}),
    controlState: rec ? 'in archive recovery' : 'in production',
  };
}

/** Look at the local instance. Never throws for a down or missing server; reports it instead. */
export async function probeInstance(ctx: PgContext): Promise<PgProbe> {
  const t0 = performance.now();
  const s = ctx.settings;
  if ((await dirEntries(s.dataDir)).length === 0) return EMPTY;
  const base = { ...EMPTY, standbySignal: hasStandbySignal(s.dataDir), following: await readFollowing(s) };
  if (!existsSync(join(s.dataDir, 'PG_VERSION'))) return { ...base, dataDir: 'invalid' };
  const pid = postmasterPid(s.dataDir);
  // A running server answers everything, system identifier included: pg_controldata (a process
  // spawned as the DB user, twice per cycle) was most of the agent's idle CPU. It is read only
  // when the server does not answer.
  if (pid !== null) {
    const live = await liveFacts(ctx, PROBE_BUDGET_MS);
    if (live?.sysid) return { ...base, dataDir: 'initialized', postmasterPid: pid, ...live } as PgProbe;
  }
  const cd = await readControlData(s.binDir, s.dataDir, ctx.user, PROBE_BUDGET_MS);
  if (!cd) return { ...base, dataDir: 'invalid' };
  const facts: PgProbe = {
    ...base, dataDir: 'initialized', sysid: cd.get(CD_SYSID) ?? null, controlState: cd.get(CD_STATE) ?? null, postmasterPid: pid,
  };
  if (pid === null) return facts;
  const live = await liveFacts(ctx, Math.max(200, PROBE_BUDGET_MS - (performance.now() - t0)));
  return live ? { ...facts, ...live } : facts;
}
