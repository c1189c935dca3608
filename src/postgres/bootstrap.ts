/**
 * Creating a new cluster: initdb, the managed files, a first start as primary, and the roles the
 * cluster needs (replication, rewind, bootstrap users). Passwords travel only through a 0600
 * pwfile (initdb) and the SQL connection, with statement logging switched off for that session.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { withClient } from './client.js';
import { pgCtlStart, pgCtlStop, type PgContext } from './control.js';
import { PostgresConfigError } from './errors.js';
import { chownToDbUser, mkdirOwned, runChecked, writeOwned, type DbUser } from './exec.js';
import { writeConfigFiles, writePgpass, writeRoleFiles } from './files.js';
import type { PostgresSettings, ToolOption } from './types.js';

/** Options the layer sets itself; a user value would silently break it. */
const RESERVED_INITDB = new Set(['pgdata', 'username', 'pwfile', 'pwprompt']);

/**
 * Turn option entries into arguments: 'x' -> --x, {k: v} -> --k=v. `section` names the config key in
 * errors. Throws PostgresConfigError on a reserved or malformed option name.
 */
export function toolArgs(options: readonly ToolOption[], section: string, reserved: ReadonlySet<string>): string[] {
  const args: string[] = [];
  const check = (name: string): void => {
    if (!/^[A-Za-z][A-Za-z0-9-]+$/.test(name)) {
      throw new PostgresConfigError(`${section}: '${name}' is not a long option name (expected e.g. 'data-checksums' or {encoding: UTF8})`);
    }
    if (reserved.has(name.toLowerCase())) {
      throw new PostgresConfigError(`${section}: option '${name}' is set by the orchestrator and cannot be given here`);
    }
  };
  for (const opt of options) {
    if (typeof opt === 'string') { check(opt); args.push(`--${opt}`); continue; }
    for (const [k, v] of Object.entries(opt)) { check(k); args.push(`--${k}=${v}`); }
  }
  return args;
}

const ROLE_OPTION =
  /^(no)?(superuser|createdb|createrole|inherit|login|replication|bypassrls)$|^connection limit -?\d+$|^valid until '[^']*'$/i;

/** Validate bootstrap user options (they are spliced into CREATE ROLE). */
export function roleOptions(user: string, options: readonly string[]): string {
  for (const o of options) {
    if (!ROLE_OPTION.test(o.trim())) {
      throw new PostgresConfigError(
        `bootstrap.users.${user}.options: '${o}' is not a role option (expected e.g. createdb, nocreaterole, 'connection limit 5')`);
    }
  }
  return options.map((o) => o.trim()).join(' ');
}

/** initdb as the DB user, with the superuser's password passed in a private temporary file. */
export async function runInitdb(s: PostgresSettings, user: DbUser): Promise<void> {
  if (s.superuser.password === '') {
    throw new PostgresConfigError(
      'postgresql.authentication.superuser.password: expected a non-empty password (the agent logs in with it)');
  }
  const extra = toolArgs(s.initdb, 'bootstrap.initdb', RESERVED_INITDB);
  // Created by us (0700, DB user) because the DB user may not be allowed to create it in the parent.
  await mkdirOwned(s.dataDir, 0o700, user);
  const dir = await mkdtemp(join(tmpdir(), 'orch-initdb-'));
  try {
    await chownToDbUser(dir, user);
    const pwfile = join(dir, 'pw');
    await writeOwned(pwfile, `${s.superuser.password}\n`, 0o600, user);
    await runChecked(s.binDir, 'initdb', ['-D', s.dataDir, `--username=${s.superuser.username}`, `--pwfile=${pwfile}`, ...extra],
      { user, timeoutMs: Math.max(120, s.pgCtlTimeoutSeconds) * 1000 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Keep passwords out of the server log for this session, whatever the server's logging settings. */
async function quietSession(c: pg.Client): Promise<void> {
  await c.query("SET log_statement = 'none'; SET log_min_duration_statement = -1; SET log_min_error_statement = 'panic'");
}

async function upsertRole(c: pg.Client, name: string, password: string, options: string): Promise<void> {
  const exists = (await c.query('SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1', [name])).rowCount !== 0;
  const verb = exists ? 'ALTER' : 'CREATE';
  await c.query(`${verb} ROLE ${pg.escapeIdentifier(name)} WITH ${options} PASSWORD ${pg.escapeLiteral(password)}`);
}

/** Functions pg_rewind calls on its source server, which a non-superuser must be granted. */
const REWIND_FUNCTIONS = [
  'pg_catalog.pg_ls_dir(text, boolean, boolean)',
  'pg_catalog.pg_stat_file(text, boolean)',
  'pg_catalog.pg_read_binary_file(text)',
  'pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean)',
];

/**
 * Create or update the roles: the superuser's password, the replication and rewind roles (with the
 * grants pg_rewind needs) and the bootstrap users. Runs on a started primary.
 */
export async function createRoles(ctx: PgContext): Promise<void> {
  const s = ctx.settings;
  const users = Object.entries(s.bootstrapUsers ?? {})
    .map(([name, u]) => ({ name, password: u.password, opts: roleOptions(name, u.options) }));
  await withClient(ctx.target, 10_000, async (c) => {
    await quietSession(c);
    // initdb set it already; repeating it keeps a later call (new password in the config) in step.
    await upsertRole(c, s.superuser.username, s.superuser.password, 'LOGIN SUPERUSER');
    if (s.replication.username !== s.superuser.username) {
      await upsertRole(c, s.replication.username, s.replication.password, 'LOGIN REPLICATION');
    }
    if (s.rewind && s.rewind.username !== s.superuser.username) {
      await upsertRole(c, s.rewind.username, s.rewind.password, 'LOGIN');
      for (const fn of REWIND_FUNCTIONS) {
        await c.query(`GRANT EXECUTE ON FUNCTION ${fn} TO ${pg.escapeIdentifier(s.rewind.username)}`);
      }
    }
    for (const u of users) await upsertRole(c, u.name, u.password, `LOGIN ${u.opts}`);
  });
  const names = { replication: s.replication.username, rewind: s.rewind?.username ?? null, users: users.map((u) => u.name) };
  ctx.log.info(names, 'roles created');
}

/**
 * initdb + configure + start as primary + roles. On failure the half-made cluster is stopped and
 * the data directory's contents removed, so the caller can retry or give up cleanly.
 * Precondition: the data directory is empty or missing (the caller checked with probe()).
 */
export async function bootstrapCluster(ctx: PgContext, wipe: () => Promise<void>): Promise<void> {
  const s = ctx.settings;
  try {
    await runInitdb(s, ctx.user);
    await writeConfigFiles(s, ctx.user);
    await writePgpass(s, ctx.user);
    await writeRoleFiles(s, ctx.user, false, null, null);
    await pgCtlStart(ctx);
    await createRoles(ctx);
  } catch (err) {
    ctx.log.error({ dataDir: s.dataDir, err: (err as Error).message }, 'bootstrap failed; removing the new data directory');
    await pgCtlStop(ctx, 'immediate').catch(() => false);
    await wipe();
    throw err;
  }
}
