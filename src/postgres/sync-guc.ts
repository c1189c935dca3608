/**
 * synchronous_standby_names, set with ALTER SYSTEM + pg_reload_conf().
 *
 * Why ALTER SYSTEM rather than our managed config file: the value changes at run time, often (each
 * change of synchronous standby), and must take effect with a reload only; ALTER SYSTEM writes just
 * postgresql.auto.conf (which overrides the managed file) and works on a standby too (it writes no
 * WAL), so a candidate can set '*' before it promotes. The managed file stays a pure function of the
 * configuration. The catch, handled by the HA loop: pg_basebackup and pg_rewind copy
 * postgresql.auto.conf from the source, so a primary reconciles the value on every cycle.
 */
import { query, type SqlTarget } from './client.js';

export interface SyncStandbyNames {
  /** The value in force (SHOW synchronous_standby_names). */
  readonly current: string;
  /** The value we set with ALTER SYSTEM (postgresql.auto.conf), or null when none is set there. */
  readonly ours: string | null;
}

const READ_SQL = `
  SELECT current_setting('synchronous_standby_names') AS current,
    (SELECT setting FROM pg_catalog.pg_file_settings
      WHERE name = 'synchronous_standby_names' AND sourcefile LIKE '%postgresql.auto.conf'
      ORDER BY seqno DESC LIMIT 1) AS ours`;

export async function readSyncStandbyNames(target: SqlTarget, budgetMs: number): Promise<SyncStandbyNames> {
  const rows = await query(target, READ_SQL, [], budgetMs);
  const r = rows[0];
  const ours = r?.['ours'];
  return { current: String(r?.['current'] ?? ''), ours: typeof ours === 'string' ? ours : null };
}

/** A string literal for a utility statement (ALTER SYSTEM takes no bind parameters). */
function literal(v: string): string {
  return `'${v.replace(/'/g, "''")}'`;
}

/**
 * Set (value) or reset to the configuration file's value (null), then reload. Resolves once the
 * reload signal is sent; the backend applies it within milliseconds.
 */
export async function writeSyncStandbyNames(target: SqlTarget, value: string | null, budgetMs: number): Promise<void> {
  const stmt = value === null
    ? 'ALTER SYSTEM RESET synchronous_standby_names'
    : `ALTER SYSTEM SET synchronous_standby_names = ${literal(value)}`;
  await query(target, stmt, [], budgetMs);
  await query(target, 'SELECT pg_catalog.pg_reload_conf()', [], budgetMs);
}
