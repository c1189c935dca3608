/**
 * pg_rewind against a new primary. Preconditions the caller keeps: the local server is stopped,
 * and `from` is a running primary. Before anything is rewound, the local timeline's WAL segments
 * are copied aside (`<dataDir>/../<name>.diverged/<tli>/`) so transactions lost to the rewind can
 * still be recovered by hand.
 */
import { copyFile, readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { query, withClient } from './client.js';
import { postmasterPid, type PgContext } from './control.js';
import { CD_CHECKPOINT_TLI, CD_STATE, readControlData } from './controldata.js';
import { PostgresStateError } from './errors.js';
import { chownToDbUser, mkdirOwned, run, runChecked, tail } from './exec.js';
import { writeConfigFiles, writePgpass } from './files.js';
import { timelineHex } from './lsn.js';
import { PRIMARY_TLI_SQL } from './queries.js';
import { conninfo, configPaths } from './render.js';
import type { ConnInfo, RewindResult } from './types.js';

const CLEAN_STATES = new Set(['shut down', 'shut down in recovery']);

/**
 * If pg_control does not say the instance was shut down cleanly, run it once in single-user mode
 * (`postgres --single`, stdin at EOF) so crash recovery completes and a shutdown checkpoint is
 * written, as Patroni does before pg_rewind. The local timeline's WAL is copied aside first (see
 * copyDivergedWal): this runs when divergence is suspected. Signal files are removed first too:
 * single-user mode refuses standby mode; the caller writes them again when it starts a standby.
 * Returns true when recovery was run. Throws when the server is running or recovery fails.
 */
export async function ensureCleanShutdown(ctx: PgContext): Promise<boolean> {
  const s = ctx.settings;
  if (postmasterPid(s.dataDir) !== null) {
    throw new PostgresStateError(`${s.dataDir}: cannot recover in single-user mode while the server runs`);
  }
  const cd = await readControlData(s.binDir, s.dataDir, ctx.user);
  if (!cd) throw new PostgresStateError(`${s.dataDir}: pg_controldata cannot read pg_control`);
  const state = cd.get(CD_STATE) ?? '';
  if (CLEAN_STATES.has(state)) return false;
  // Keep the WAL as it was before recovery's checkpoint can recycle any of it.
  const tli = Number(cd.get(CD_CHECKPOINT_TLI));
  if (Number.isInteger(tli) && tli > 0) await copyDivergedWal(ctx, tli);
  ctx.log.info({ dataDir: s.dataDir, state }, 'running crash recovery in single-user mode');
  await rm(join(s.dataDir, 'standby.signal'), { force: true });
  await rm(join(s.dataDir, 'recovery.signal'), { force: true });
  const args = ['--single', '-D', s.dataDir, `--config-file=${configPaths(s).managed}`, s.database ?? 'postgres'];
  await runChecked(s.binDir, 'postgres', args, { user: ctx.user, timeoutMs: Math.max(300, s.pgCtlTimeoutSeconds) * 1000 });
  return true;
}

/** Directory where the WAL of timeline `tli` is copied before a rewind. */
export function divergedWalDir(dataDir: string, tli: number): string {
  return join(dirname(dataDir), `${basename(dataDir)}.diverged`, String(tli));
}

/** Copy every pg_wal segment (and partial segment) of timeline `tli`; null when there are none. */
export async function copyDivergedWal(ctx: PgContext, tli: number): Promise<string | null> {
  const s = ctx.settings;
  const walDir = join(s.dataDir, 'pg_wal');
  const prefix = timelineHex(tli);
  const names = (await readdir(walDir)).filter((n) => /^[0-9A-F]{24}(\.partial)?$/.test(n) && n.startsWith(prefix));
  if (names.length === 0) return null;
  const dest = divergedWalDir(s.dataDir, tli);
  await mkdirOwned(dest, 0o700, ctx.user);
  let copied = 0;
  for (const n of names) {
    const to = join(dest, n);
    // Already copied (e.g. before crash recovery): completed segments do not change, keep the first copy.
    const prev = await stat(to).catch(() => null);
    if (prev && prev.size === (await stat(join(walDir, n))).size) continue;
    await copyFile(join(walDir, n), to);
    await chownToDbUser(to, ctx.user);
    copied++;
  }
  if (copied > 0) ctx.log.info({ dest, segments: copied }, 'copied the local timeline WAL aside');
  return dest;
}

/**
 * pg_rewind reads the source's control file, whose timeline changes only at the first checkpoint
 * after promotion; until then it would see "same timeline" and do nothing. So when the source's
 * checkpoint timeline is behind its current one, request a CHECKPOINT there (as Patroni's
 * rewinding replica does when the leader has not checkpointed since promoting).
 */
async function checkpointSourceIfNeeded(ctx: PgContext, from: ConnInfo): Promise<void> {
  const target = { ...ctx.target, host: from.host, port: from.port };
  const rows = await query(target,
    `SELECT (SELECT timeline_id FROM pg_catalog.pg_control_checkpoint()) AS checkpoint_tli,
            ${PRIMARY_TLI_SQL} AS current_tli`);
  const r = rows[0];
  if (r && r['checkpoint_tli'] !== r['current_tli']) {
    ctx.log.info({ from: from.member ?? from.host }, 'checkpoint on the rewind source (not yet done since its promotion)');
    await withClient(target, 120_000, (c) => c.query('CHECKPOINT'));
  }
}

/**
 * Rewind the stopped local instance to `from`: clean shutdown if needed, WAL copied aside, source
 * checkpointed if needed, pg_rewind (rewind user, or superuser when none), then the managed files
 * rewritten for this node (pg_rewind copies the source's). Result ok=false carries pg_rewind's
 * output (or the reason it could not run); the data directory may then need a re-clone.
 */
export async function rewindFrom(ctx: PgContext, from: ConnInfo): Promise<RewindResult> {
  const s = ctx.settings;
  if (postmasterPid(s.dataDir) !== null) throw new PostgresStateError(`cannot rewind ${s.dataDir}: the server is running`);
  const before = await readControlData(s.binDir, s.dataDir, ctx.user);
  if (!before) throw new PostgresStateError(`cannot rewind ${s.dataDir}: pg_controldata cannot read pg_control`);
  // Copy first: crash recovery's checkpoint may recycle segments we want to keep.
  const tli = Number(before.get(CD_CHECKPOINT_TLI));
  const walCopy = Number.isInteger(tli) && tli > 0 ? await copyDivergedWal(ctx, tli) : null;
  await ensureCleanShutdown(ctx);
  await writePgpass(s, ctx.user);
  try {
    await checkpointSourceIfNeeded(ctx, from);
  } catch (err) {
    return { ok: false, output: `cannot prepare the rewind source: ${(err as Error).message}`, divergedWalDir: walCopy };
  }
  const role = s.rewind ?? s.superuser;
  const source = conninfo({ host: from.host, port: from.port, user: role.username, dbname: s.database ?? 'postgres', sslmode: 'prefer' });
  const args = [`--target-pgdata=${s.dataDir}`, `--source-server=${source}`, `--config-file=${configPaths(s).managed}`, '--progress'];
  ctx.log.info({ dataDir: s.dataDir, from: from.member ?? `${from.host}:${from.port}` }, 'running pg_rewind');
  const r = await run(s.binDir, 'pg_rewind', args, {
    user: ctx.user, timeoutMs: 3600_000, env: { PGPASSFILE: s.pgpassPath, PGAPPNAME: s.name },
  });
  if (r.code !== 0) {
    ctx.log.error({ dataDir: s.dataDir, output: tail(r.output, 5) }, 'pg_rewind failed');
    return { ok: false, output: r.output, divergedWalDir: walCopy };
  }
  await writeConfigFiles(s, ctx.user);
  return { ok: true, output: r.output, divergedWalDir: walCopy };
}
