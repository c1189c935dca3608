/**
 * Starting, stopping, reloading and promoting through pg_ctl. pg_ctl is started in its own session
 * (detached) so the postmaster it forks never shares the agent's process group: a Ctrl-C or a
 * SIGTERM to the agent's group must not shut PostgreSQL down behind the HA loop's back.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { query, type SqlTarget } from './client.js';
import { PostgresCommandError, PostgresStartError, PostgresStateError } from './errors.js';
import { run, runChecked, tail, type DbUser } from './exec.js';
import { configPaths } from './render.js';
import type { PgLogger, PostgresSettings, StopMode } from './types.js';

/** What the control functions need: settings, the DB OS user, a logger and our SQL target. */
export interface PgContext {
  readonly settings: PostgresSettings;
  readonly user: DbUser;
  readonly log: PgLogger;
  readonly target: SqlTarget;
}

/**
 * pg_ctl's server log (stderr of the postmaster until a logging collector takes over). It lives
 * beside the data directory, not in it, so clones and rewinds do not copy it between nodes.
 */
export function serverLogPath(s: PostgresSettings): string {
  return join(dirname(s.dataDir), `${basename(s.dataDir)}.log`);
}

/**
 * pid of the live postmaster of `dataDir`, or null. The pid from postmaster.pid counts only if the
 * process exists, is not us or our parent (pid reuse in containers), and on Linux is a postgres
 * process.
 */
export function postmasterPid(dataDir: string): number | null {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return null;
  }
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid || pid === process.ppid) return null;
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return null;
  }
  if (existsSync('/proc/self')) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!/postgres|postmaster|qhb/.test(cmd)) return null;
    } catch {
      return null;
    }
  }
  return pid;
}

function shellQuote(v: string): string {
  return `'${v.replace(/'/g, `'\\''`)}'`;
}

async function logTail(s: PostgresSettings, lines = 20): Promise<string> {
  return tail((await readFile(serverLogPath(s), 'utf8').catch(() => '')), lines);
}

function ctlTimeoutMs(s: PostgresSettings): number {
  // pg_ctl enforces -t itself; our own limit is a backstop for a pg_ctl that hangs.
  return (s.pgCtlTimeoutSeconds + 10) * 1000;
}

/**
 * pg_ctl start, waiting until the server accepts connections, then one SELECT 1 as the agent's
 * superuser. Throws PostgresStateError if a postmaster already runs, PostgresStartError (with the
 * server log tail) otherwise; after a timeout the server may still be starting.
 */
export async function pgCtlStart(ctx: PgContext): Promise<void> {
  const s = ctx.settings;
  const pid = postmasterPid(s.dataDir);
  if (pid !== null) throw new PostgresStateError(`cannot start: a postmaster (pid ${pid}) already runs on ${s.dataDir}`);
  const opts = `--config-file=${shellQuote(configPaths(s).managed)}`;
  const args = ['start', '-D', s.dataDir, '-w', '-t', String(s.pgCtlTimeoutSeconds), '-l', serverLogPath(s), '-o', opts];
  ctx.log.info({ dataDir: s.dataDir, port: s.port }, 'starting PostgreSQL');
  const r = await run(s.binDir, 'pg_ctl', args, { user: ctx.user, timeoutMs: ctlTimeoutMs(s), detached: true });
  if (r.code !== 0) {
    const log = await logTail(s);
    throw new PostgresStartError(
      `PostgreSQL on ${s.dataDir} did not start within ${s.pgCtlTimeoutSeconds} s (pg_ctl ${r.code ?? r.signal}): ` +
        `${tail(r.output, 5)}\nserver log:\n${log}`, log);
  }
  try {
    await query(ctx.target, 'SELECT 1');
  } catch (err) {
    const log = await logTail(s);
    throw new PostgresStartError(
      `PostgreSQL on ${s.dataDir} started but refuses the agent's connection: ${(err as Error).message}\nserver log:\n${log}`,
      log, { cause: err });
  }
}

/**
 * pg_ctl stop with `mode`, waiting up to pgCtlTimeoutSeconds. Returns false when no server was
 * running. Throws PostgresCommandError when it did not stop in time.
 */
export async function pgCtlStop(ctx: PgContext, mode: StopMode): Promise<boolean> {
  const s = ctx.settings;
  if (postmasterPid(s.dataDir) === null) return false;
  ctx.log.info({ dataDir: s.dataDir, mode }, 'stopping PostgreSQL');
  const r = await run(s.binDir, 'pg_ctl', ['stop', '-D', s.dataDir, '-m', mode, '-w', '-t', String(s.pgCtlTimeoutSeconds)],
    { user: ctx.user, timeoutMs: ctlTimeoutMs(s) });
  if (r.code === 0) return true;
  // It may have gone between our check and pg_ctl's (e.g. crashed): then it is stopped all the same.
  if (postmasterPid(s.dataDir) === null) return true;
  throw new PostgresCommandError(`pg_ctl stop -m ${mode} on ${s.dataDir} failed: ${tail(r.output, 5)}`, r.code, r.output);
}

/** pg_ctl reload (SIGHUP). Throws when the server is not running. */
export async function pgCtlReload(ctx: PgContext): Promise<void> {
  const s = ctx.settings;
  await runChecked(s.binDir, 'pg_ctl', ['reload', '-D', s.dataDir], { user: ctx.user, timeoutMs: 10_000 });
}

/** pg_ctl promote, waiting up to `waitSeconds` for the server to leave recovery. */
export async function pgCtlPromote(ctx: PgContext, waitSeconds: number): Promise<void> {
  const s = ctx.settings;
  ctx.log.info({ dataDir: s.dataDir }, 'promoting PostgreSQL');
  await runChecked(s.binDir, 'pg_ctl', ['promote', '-D', s.dataDir, '-w', '-t', String(waitSeconds)],
    { user: ctx.user, timeoutMs: (waitSeconds + 10) * 1000 });
}
