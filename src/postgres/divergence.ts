/**
 * Gathering the facts for the timeline divergence check (the verdict itself is pure, in
 * timeline.ts): where the local instance stands, and the leader's timeline and history.
 */
import { DEFAULT_BUDGET_MS, query, withClient, type SqlTarget } from './client.js';
import { postmasterPid, type PgContext } from './control.js';
import {
  CD_CHECKPOINT_LSN, CD_CHECKPOINT_TLI, CD_MIN_RECOVERY_LSN, CD_MIN_RECOVERY_TLI, CD_STATE, readControlData,
} from './controldata.js';
import { parseLsn, parseLsnOrNull, timelineHex } from './lsn.js';
import { PRIMARY_TLI_SQL, REPLICA_TLI_SQL } from './queries.js';
import { ensureCleanShutdown } from './rewind.js';
import { parseHistory, rewindVerdict, type HistoryEntry, type LocalPosition, type RewindVerdict } from './timeline.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConnInfo } from './types.js';


/** Our own history file of timeline `tli` (from disk), or null when it cannot be read. */
async function readLocalHistory(ctx: PgContext, tli: number): Promise<HistoryEntry[] | null> {
  try {
    return parseHistory(await readFile(join(ctx.settings.dataDir, 'pg_wal', `${timelineHex(tli)}.history`), 'utf8'));
  } catch (err) {
    ctx.log.warn({ timeline: tli, err: (err as Error).message }, 'cannot read our own timeline history file; comparing timeline IDs only');
    return null;
  }
}

async function runningPosition(target: SqlTarget): Promise<LocalPosition | null> {
  const rows = await query(target, `
    SELECT pg_catalog.pg_is_in_recovery() AS rec,
      CASE WHEN pg_catalog.pg_is_in_recovery() THEN NULL ELSE ${PRIMARY_TLI_SQL} END AS primary_tli,
      CASE WHEN pg_catalog.pg_is_in_recovery() THEN NULL ELSE pg_catalog.pg_current_wal_lsn()::text END AS primary_lsn,
      ${REPLICA_TLI_SQL} AS replica_tli,
      pg_catalog.pg_last_wal_replay_lsn()::text AS replay_lsn`);
  const r = rows[0];
  if (!r) return null;
  let tli = Number(r['rec'] ? r['replica_tli'] : r['primary_tli']);
  if (r['rec']) {
    // A standby's replay timeline: pg_stat_wal_receiver is empty while it is not streaming and
    // pg_control's checkpoint timeline lags until the next restartpoint, which made a healthy
    // standby look diverged right after its upstream changed. IDENTIFY_SYSTEM on a replication
    // connection to ourselves reports the timeline the standby is replaying (as Patroni does).
    const ident = await withClient(target, DEFAULT_BUDGET_MS, async (c) => (await c.query('IDENTIFY_SYSTEM')).rows, { replication: true }).catch(() => null);
    const t = Number(ident?.[0]?.['timeline']);
    if (Number.isInteger(t) && t > 0) tli = t;
  }
  const lsn = parseLsnOrNull((r['rec'] ? r['replay_lsn'] : r['primary_lsn']) as string | null);
  return lsn === null || !Number.isInteger(tli) ? null : { timeline: tli, lsn, kind: 'end' };
}

/**
 * Position of a stopped instance from pg_control. A stopped replica: its minimum recovery point
 * (end of what it replayed). A cleanly stopped primary: the start of its shutdown checkpoint. An
 * uncleanly stopped one first gets crash recovery in single-user mode (Patroni does the same),
 * since its checkpoint location says nothing about the WAL written after it.
 */
async function stoppedPosition(ctx: PgContext, allowRecovery: boolean): Promise<LocalPosition | null> {
  const s = ctx.settings;
  const cd = await readControlData(s.binDir, s.dataDir, ctx.user);
  if (!cd) return null;
  const state = cd.get(CD_STATE) ?? '';
  if (state === 'shut down in recovery' || state === 'in archive recovery') {
    const lsn = parseLsn(cd.get(CD_MIN_RECOVERY_LSN) ?? '0/0');
    const tli = Number(cd.get(CD_MIN_RECOVERY_TLI) ?? 0);
    if (lsn > 0 && tli > 0) return { timeline: tli, lsn, kind: 'end' };
  } else if (state !== 'shut down') {
    if (!allowRecovery) return null;
    await ensureCleanShutdown(ctx);
    return stoppedPosition(ctx, false);
  }
  return { timeline: Number(cd.get(CD_CHECKPOINT_TLI)), lsn: parseLsn(cd.get(CD_CHECKPOINT_LSN) ?? '0/0'), kind: 'record-start' };
}

/**
 * Does the local instance need pg_rewind before it can follow `leader`? Null when it cannot be
 * told: the leader is unreachable or not a primary, or our pg_control is unreadable.
 * Side effect: a stopped instance that was not shut down cleanly gets crash recovery first.
 */
export async function checkDivergence(ctx: PgContext, leader: ConnInfo): Promise<RewindVerdict | null> {
  const local = postmasterPid(ctx.settings.dataDir) !== null
    ? await runningPosition(ctx.target).catch(() => null)
    : await stoppedPosition(ctx, true);
  if (!local) return null;
  const target: SqlTarget = { ...ctx.target, host: leader.host, port: leader.port };
  let leaderTli: number;
  let historyText = '';
  try {
    const rows = await query(target, `SELECT pg_catalog.pg_is_in_recovery() AS rec,
      CASE WHEN pg_catalog.pg_is_in_recovery() THEN NULL ELSE ${PRIMARY_TLI_SQL} END AS tli`);
    // A leader still in recovery has no settled history to compare against (Patroni skips too).
    if (!rows[0] || rows[0]['rec'] === true) return null;
    leaderTli = Number(rows[0]['tli']);
    if (local.timeline <= leaderTli && leaderTli > 1) {
      const h = await query(target, 'SELECT pg_catalog.pg_read_file($1) AS h', [`pg_wal/${timelineHex(leaderTli)}.history`]);
      historyText = String(h[0]?.['h'] ?? '');
    }
  } catch (err) {
    ctx.log.warn({ leader: leader.member ?? leader.host, err: (err as Error).message }, 'cannot read the leader timeline');
    return null;
  }
  const localHistory = local.timeline === leaderTli && leaderTli > 1 ? await readLocalHistory(ctx, leaderTli) : null;
  const verdict = rewindVerdict(local, leaderTli, parseHistory(historyText), localHistory);
  ctx.log.info({ leader: leader.member ?? leader.host, needed: verdict.needed, reason: verdict.reason }, 'timeline divergence check');
  return verdict;
}
