/**
 * Creating a replica with pg_basebackup. Invariant: a failed clone leaves no partial data
 * directory behind (a half-copied directory must never be started or mistaken for data).
 */
import { existsSync } from 'node:fs';
import { chmod } from 'node:fs/promises';
import { toolArgs } from './bootstrap.js';
import type { PgContext } from './control.js';
import { PostgresStateError } from './errors.js';
import { mkdirOwned, runChecked } from './exec.js';
import { dirEntries, wipeDataDir, writeConfigFiles, writePgpass, writeRoleFiles } from './files.js';
import type { ConnInfo } from './types.js';

/** Options we set ourselves (they define what the copy is and where it goes). */
const RESERVED_BASEBACKUP = new Set([
  'pgdata', 'wal-method', 'format', 'host', 'port', 'username', 'dbname', 'write-recovery-conf', 'progress',
  'no-password', 'password', 'target',
]);

export interface CloneOptions {
  /** Physical slot to stream from once started (used when settings.useSlots). */
  readonly slotName?: string | null;
  /** Hard limit for the copy; default 24 h. */
  readonly timeoutMs?: number;
}

/**
 * pg_basebackup from `from` (replication user, password via PGPASSFILE) into the empty data
 * directory, streaming WAL alongside (-X stream) after a fast checkpoint on the source. Progress
 * lines go to `onProgress`. Then the managed files are rewritten for this node and it is set up as
 * a standby of `from`; the caller starts it. Throws PostgresStateError when the data directory is
 * not empty, PostgresCommandError when the copy fails (the partial copy is removed first).
 */
export async function cloneFrom(ctx: PgContext, from: ConnInfo, onProgress: (line: string) => void, opts: CloneOptions = {}): Promise<void> {
  const s = ctx.settings;
  const existed = existsSync(s.dataDir);
  if (existed && (await dirEntries(s.dataDir)).length > 0) {
    throw new PostgresStateError(`cannot clone into ${s.dataDir}: the data directory is not empty`);
  }
  const extra = toolArgs(s.basebackupOptions, 'postgresql.basebackup', RESERVED_BASEBACKUP);
  ctx.log.info({ dataDir: s.dataDir, from: from.member ?? `${from.host}:${from.port}` }, 'cloning with pg_basebackup');
  try {
    await mkdirOwned(s.dataDir, 0o700, ctx.user);
    await writePgpass(s, ctx.user);
    const args = ['-D', s.dataDir, '-X', 'stream', '--checkpoint=fast', '-P', '-w',
      '-h', from.host, '-p', String(from.port), '-U', s.replication.username, ...extra];
    await runChecked(s.binDir, 'pg_basebackup', args, {
      user: ctx.user, timeoutMs: opts.timeoutMs ?? 24 * 3600_000, onLine: onProgress, abortable: true,
      env: { PGPASSFILE: s.pgpassPath, PGAPPNAME: s.name },
    });
    // pg_basebackup copies the source's permission mode; PostgreSQL wants 0700 (or 0750).
    await chmod(s.dataDir, 0o700);
    await writeConfigFiles(s, ctx.user);
    await writeRoleFiles(s, ctx.user, true, from, opts.slotName ?? null);
  } catch (err) {
    ctx.log.error({ dataDir: s.dataDir, err: (err as Error).message }, 'clone failed; removing the partial data directory');
    await wipeDataDir(s.dataDir, existed);
    throw err;
  }
}
