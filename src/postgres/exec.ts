/**
 * Spawning PostgreSQL binaries. Invariant: no PostgreSQL binary ever runs as root. When the agent
 * is root, every binary runs as the unprivileged "DB user": the owner of the data directory's
 * parent if that is not root, else the 'postgres' OS user. Children get a clean environment (no
 * PATRONI_* or libpq PG* variables leak in) and passwords reach them only through PGPASSFILE or a
 * temporary file, never argv.
 */
import { spawn } from 'node:child_process';
import { chmod, chown, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { PostgresCommandError } from './errors.js';

/** The OS identity PostgreSQL binaries run as. uid/gid null: run as ourselves (agent is not root). */
export interface DbUser {
  readonly uid: number | null;
  readonly gid: number | null;
  readonly name: string;
  readonly home: string | null;
}

interface PasswdEntry { name: string; uid: number; gid: number; home: string }

async function readPasswd(): Promise<PasswdEntry[]> {
  const text = await readFile('/etc/passwd', 'utf8');
  const out: PasswdEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 7) continue;
    out.push({ name: f[0] ?? '', uid: Number(f[2]), gid: Number(f[3]), home: f[5] ?? '' });
  }
  return out;
}

/**
 * Resolve the DB user for a data directory (see the module invariant). Throws when running as root
 * and neither a non-root parent owner nor a 'postgres' OS user exists.
 */
export async function resolveDbUser(dataDir: string): Promise<DbUser> {
  const uid = process.getuid?.();
  if (uid !== 0) {
    return { uid: null, gid: null, name: process.env['USER'] ?? String(uid ?? ''), home: process.env['HOME'] ?? null };
  }
  const passwd = await readPasswd();
  const parentOwner = await stat(dirname(dataDir)).then((s) => s, () => null);
  if (parentOwner && parentOwner.uid !== 0) {
    const e = passwd.find((p) => p.uid === parentOwner.uid);
    return { uid: parentOwner.uid, gid: e?.gid ?? parentOwner.gid, name: e?.name ?? String(parentOwner.uid), home: e?.home ?? null };
  }
  const pg = passwd.find((p) => p.name === 'postgres');
  if (!pg || pg.uid === 0) {
    throw new PostgresCommandError(
      `running as root and no unprivileged OS user for PostgreSQL: ${dirname(dataDir)} is owned by root and ` +
        `/etc/passwd has no 'postgres' user; chown the data directory's parent to the database OS user`,
      null, '',
    );
  }
  return { uid: pg.uid, gid: pg.gid, name: pg.name, home: pg.home };
}

/** chown a path to the DB user (no-op when not root). */
export async function chownToDbUser(path: string, user: DbUser): Promise<void> {
  if (user.uid !== null && user.gid !== null) await chown(path, user.uid, user.gid);
}

/** mkdir -p, then chown every directory this call created (and the leaf) to the DB user. */
export async function mkdirOwned(path: string, mode: number, user: DbUser): Promise<void> {
  const first = await mkdir(path, { recursive: true, mode });
  if (first !== undefined) {
    // chown from the first created directory down to the leaf.
    let p = path;
    const created: string[] = [];
    while (p.length >= first.length) { created.push(p); p = dirname(p); }
    for (const c of created.reverse()) await chownToDbUser(c, user);
  } else {
    await chownToDbUser(path, user);
  }
  await chmod(path, mode);
}

/**
 * Write a file owned by the DB user with `mode`, atomically: a temporary file gets the mode and
 * owner before the content, then replaces the target, so a reader (a reload, the walreceiver
 * reading the passfile) never sees it half-written and a secret never sits in a wider-mode file.
 */
export async function writeOwned(path: string, content: string, mode: number, user: DbUser): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, '', { mode });
    await chmod(tmp, mode);
    await chownToDbUser(tmp, user);
    await writeFile(tmp, content);
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Environment for a child: ours minus PATRONI_* and libpq's PG* variables, plus `extra`. */
export function cleanEnv(user: DbUser, extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v === undefined || k.startsWith('PATRONI_') || /^PG[A-Z]/.test(k)) continue;
    env[k] = v;
  }
  if (user.uid !== null) {
    env['USER'] = user.name;
    env['LOGNAME'] = user.name;
    if (user.home) env['HOME'] = user.home;
  }
  // Messages we parse (pg_controldata labels, pg_ctl output) must be in English.
  env['LC_MESSAGES'] = 'C';
  return { ...env, ...extra };
}

export interface RunOptions {
  readonly user: DbUser;
  readonly timeoutMs: number;
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory; default '/' (the DB user may not be able to enter ours). */
  readonly cwd?: string;
  /** Start in a new session, so the postmaster pg_ctl forks never shares our process group. */
  readonly detached?: boolean;
  /** Called with each complete output line (stdout and stderr), '\r' also ends a line. */
  readonly onLine?: (line: string) => void;
  /** A long job (pg_basebackup, pg_rewind) that abortLongJobs() may end (agent shutdown). */
  readonly abortable?: boolean;
}

const abortable = new Set<() => void>();
/** Set by abortLongJobs(): abortable commands started later fail at once. */
let aborting = false;

/**
 * End every running abortable command (SIGTERM, SIGKILL 2 s later): on agent shutdown a clone or
 * rewind must not outlive the agent, nor finish after it and start PostgreSQL behind its back.
 * Returns how many were signalled; each such run() then resolves as failed, and abortable commands
 * started afterwards (a job still preparing when the signal came) fail at once.
 */
export function abortLongJobs(): number {
  aborting = true;
  const n = abortable.size;
  for (const stop of [...abortable]) stop();
  return n;
}

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
  readonly timedOut: boolean;
}

const MAX_OUTPUT_CHARS = 64 * 1024;

/**
 * Run `bin/<name> args` as the DB user. Resolves with the exit status and combined output (the last
 * 64 KiB); rejects only when the binary cannot be spawned. On timeout the child (its group when
 * detached) gets SIGTERM, then SIGKILL 2 s later.
 */
export function run(binDir: string, name: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  // The shutdown came while the job was still preparing (before its command started).
  if (opts.abortable && aborting) return Promise.resolve({ code: null, signal: 'SIGTERM', output: `${name} not started: the agent is shutting down`, timedOut: false });
  return new Promise((resolve, reject) => {
    const child = spawn(join(binDir, name), args, {
      cwd: opts.cwd ?? '/',
      env: cleanEnv(opts.user, opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: opts.detached ?? false,
      ...(opts.user.uid !== null && opts.user.gid !== null ? { uid: opts.user.uid, gid: opts.user.gid } : {}),
    });
    let output = '';
    let partial = '';
    let timedOut = false;
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      output = (output + text).slice(-MAX_OUTPUT_CHARS);
      if (!opts.onLine) return;
      const parts = (partial + text).split(/\r\n|\r|\n/);
      partial = parts.pop() ?? '';
      for (const p of parts) if (p.trim() !== '') opts.onLine(p);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    const kill = (sig: NodeJS.Signals): void => {
      try {
        if (opts.detached && child.pid !== undefined) process.kill(-child.pid, sig);
        else child.kill(sig);
      } catch { /* already gone */ }
    };
    let hardKill: NodeJS.Timeout | undefined;
    const terminate = (): void => {
      kill('SIGTERM');
      hardKill ??= setTimeout(() => kill('SIGKILL'), 2000);
    };
    const timer = setTimeout(() => { timedOut = true; terminate(); }, opts.timeoutMs);
    if (opts.abortable) abortable.add(terminate);
    child.on('error', (err) => {
      clearTimeout(timer);
      abortable.delete(terminate);
      reject(new PostgresCommandError(`cannot run ${name} from ${binDir}: ${err.message}`, null, '', { cause: err }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      abortable.delete(terminate);
      if (hardKill) clearTimeout(hardKill);
      if (opts.onLine && partial.trim() !== '') opts.onLine(partial);
      resolve({ code, signal, output, timedOut });
    });
  });
}

/** The last `lines` lines of a text, for error messages. */
export function tail(text: string, lines = 15): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/** Run and throw PostgresCommandError unless the exit code is 0. */
export async function runChecked(binDir: string, name: string, args: readonly string[], opts: RunOptions): Promise<RunResult> {
  const r = await run(binDir, name, args, opts);
  if (r.code !== 0) {
    const why = r.timedOut ? `timed out after ${Math.round(opts.timeoutMs / 1000)} s` : `exited with ${r.code ?? r.signal}`;
    throw new PostgresCommandError(`${name} ${why}:\n${tail(r.output)}`, r.code, r.output);
  }
  return r;
}
