/**
 * Writing the managed files (texts come from render.ts). Every file is written owned by the DB user,
 * because PostgreSQL and pg_rewind (running as that user) read and replace them.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { chownToDbUser, mkdirOwned, writeOwned, type DbUser } from './exec.js';
import {
  configPaths, MANAGED_HEADER, parseUpstreamMember, renderHba, renderManagedConfig, renderPgpass,
  renderStandbyConfig, stripOurHbaBlock,
} from './render.js';
import type { ConnInfo, PostgresSettings } from './types.js';

const CONF_MODE = 0o600;

async function readIfExists(path: string): Promise<string | null> {
  return readFile(path, 'utf8').catch(() => null);
}

/**
 * Keep the configuration initdb (or the clone source) wrote as `<base>.base.conf`. If it is already
 * there, it stays: after a clone or rewind the copied one is the same baseline.
 */
async function keepBaseConfig(s: PostgresSettings, user: DbUser): Promise<void> {
  const p = configPaths(s);
  if (existsSync(p.baseConf)) return;
  for (const candidate of [p.managed, join(s.dataDir, 'postgresql.conf')]) {
    const text = await readIfExists(candidate);
    // Our own managed file is never a baseline (it would include itself).
    if (text === null || text.startsWith(MANAGED_HEADER)) continue;
    await rename(candidate, p.baseConf);
    await chownToDbUser(p.baseConf, user);
    return;
  }
  await writeOwned(p.baseConf, '# baseline configuration (none was found at setup)\n', CONF_MODE, user);
}

/** hba: settings.pgHba if given, else the existing file (or initdb's) minus our previous block. */
async function writeHba(s: PostgresSettings, user: DbUser): Promise<void> {
  const p = configPaths(s);
  let lines: readonly string[];
  if (s.pgHba !== null) {
    lines = s.pgHba;
  } else {
    const existing = (await readIfExists(p.hba)) ?? (await readIfExists(join(s.dataDir, 'pg_hba.conf'))) ?? '';
    lines = stripOurHbaBlock(existing);
  }
  await writeOwned(p.hba, renderHba(s, lines), CONF_MODE, user);
}

async function ensureIdent(s: PostgresSettings, user: DbUser): Promise<void> {
  const p = configPaths(s);
  if (existsSync(p.ident)) return;
  const initdbs = await readIfExists(join(s.dataDir, 'pg_ident.conf'));
  await writeOwned(p.ident, initdbs ?? '# MAPNAME SYSTEM-USERNAME PG-USERNAME\n', CONF_MODE, user);
}

/**
 * Write the managed config, hba and ident files for THIS node (port, listen addresses, names),
 * whatever a clone or rewind copied from elsewhere. The standby file is created empty if missing.
 */
export async function writeConfigFiles(s: PostgresSettings, user: DbUser): Promise<void> {
  const p = configPaths(s);
  if (!existsSync(p.configDir)) await mkdirOwned(p.configDir, 0o700, user);
  await keepBaseConfig(s, user);
  await writeOwned(p.managed, renderManagedConfig(s, p), CONF_MODE, user);
  await writeHba(s, user);
  await ensureIdent(s, user);
  if (!existsSync(p.standbyConf)) await writeOwned(p.standbyConf, renderStandbyConfig(s, null, null), CONF_MODE, user);
}

/**
 * Set the role files: a standby gets standby.signal and its upstream in the standby file; a primary
 * loses both signal files and any upstream (so probe().following reports null).
 */
export async function writeRoleFiles(
  s: PostgresSettings, user: DbUser, asStandby: boolean, upstream: ConnInfo | null, slot: string | null,
): Promise<void> {
  const p = configPaths(s);
  await writeOwned(p.standbyConf, renderStandbyConfig(s, asStandby ? upstream : null, slot), CONF_MODE, user);
  if (asStandby) {
    await writeOwned(join(s.dataDir, 'standby.signal'), '', CONF_MODE, user);
  } else {
    await rm(join(s.dataDir, 'standby.signal'), { force: true });
    await rm(join(s.dataDir, 'recovery.signal'), { force: true });
  }
}

/** The passfile (0600, DB user) with the replication, rewind and superuser passwords. */
export async function writePgpass(s: PostgresSettings, user: DbUser): Promise<void> {
  await writeOwned(s.pgpassPath, renderPgpass(s), 0o600, user);
}

/** Upstream member recorded in our standby file (null when none or the file is missing). */
export async function readFollowing(s: PostgresSettings): Promise<string | null> {
  const text = await readIfExists(configPaths(s).standbyConf);
  return text === null ? null : parseUpstreamMember(text);
}

/** True when the data directory has standby.signal or recovery.signal. */
export function hasStandbySignal(dataDir: string): boolean {
  return existsSync(join(dataDir, 'standby.signal')) || existsSync(join(dataDir, 'recovery.signal'));
}

/** Entries of a directory, ignoring 'lost+found' (a data directory may be a mount point). */
export async function dirEntries(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n !== 'lost+found');
}

/**
 * Remove everything in the data directory. The directory itself is kept only if it existed before
 * (it may be a mount point or carry ownership the caller set up); otherwise it is removed too.
 */
export async function wipeDataDir(dataDir: string, keepDir: boolean): Promise<void> {
  if (!keepDir) { await rm(dataDir, { recursive: true, force: true }); return; }
  for (const n of await dirEntries(dataDir)) await rm(join(dataDir, n), { recursive: true, force: true });
}
