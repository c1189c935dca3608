/**
 * Text of the files this layer manages, as pure functions of the settings (files.ts writes them).
 *
 * Layout in configDir (default: the data directory), with base = configBaseName ('postgresql'):
 *   <base>.conf          managed: includes <base>.base.conf, then our settings, then the standby file
 *   <base>.base.conf     the file initdb generated, kept as the user's baseline
 *   <base>.standby.conf  managed: primary_conninfo / primary_slot_name / recovery_target_timeline
 *   hba and ident files  named by settings.hbaFile / identFile (QHB names), default pg_hba.conf / pg_ident.conf
 */
import { isAbsolute, join } from 'node:path';
import { PostgresConfigError } from './errors.js';
import type { ConnInfo, PostgresSettings } from './types.js';

export const MANAGED_HEADER = '# Managed by the orchestrator';
export const HBA_BEGIN = '# BEGIN orchestrator: agent access';
export const HBA_END = '# END orchestrator: agent access';
const UPSTREAM_TAG = '# upstream-member: ';

export interface ConfigPaths {
  readonly configDir: string;
  readonly base: string;
  readonly managed: string;
  readonly baseConf: string;
  readonly standbyConf: string;
  readonly hba: string;
  readonly ident: string;
}

export function configPaths(s: PostgresSettings): ConfigPaths {
  const configDir = s.configDir ?? s.dataDir;
  const base = s.configBaseName ?? 'postgresql';
  if (!/^[A-Za-z0-9_.-]+$/.test(base)) {
    throw new PostgresConfigError(`postgresql.config_base_name: expected a plain file name, got '${base}'`);
  }
  const at = (name: string): string => (isAbsolute(name) ? name : join(configDir, name));
  return {
    configDir, base,
    managed: at(`${base}.conf`),
    baseConf: at(`${base}.base.conf`),
    standbyConf: at(`${base}.standby.conf`),
    hba: at(s.hbaFile ?? 'pg_hba.conf'),
    ident: at(s.identFile ?? 'pg_ident.conf'),
  };
}

/** A string value for postgresql.conf: single-quoted, quotes doubled, backslashes escaped. */
export function quoteConfValue(v: string): string {
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

/** A libpq conninfo value: bare when safe, else single-quoted with \ and ' escaped. */
export function quoteConninfoValue(v: string): string {
  if (v !== '' && /^[A-Za-z0-9_.:/@-]+$/.test(v)) return v;
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** key=value conninfo string from pairs (undefined/null values are skipped). */
export function conninfo(pairs: Readonly<Record<string, string | number | null | undefined>>): string {
  return Object.entries(pairs)
    .filter((e): e is [string, string | number] => e[1] !== null && e[1] !== undefined)
    .map(([k, v]) => `${k}=${quoteConninfoValue(String(v))}`)
    .join(' ');
}

function formatParam(key: string, v: string | number | boolean): string {
  if (typeof v === 'boolean') return v ? 'on' : 'off';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new PostgresConfigError(`postgresql.parameters.${key}: expected a finite number, got ${v}`);
    return String(v);
  }
  return quoteConfValue(v);
}

function isOn(v: string | number | boolean): boolean {
  return v === true || v === 1 || (typeof v === 'string' && ['on', 'true', 'yes', '1'].includes(v.toLowerCase()));
}

/** Keys this layer owns; the same keys in settings.parameters are ignored (and listed in the file). */
const OWNED_KEYS = new Set([
  'listen_addresses', 'port', 'cluster_name', 'hba_file', 'ident_file', 'config_file', 'data_directory',
  'primary_conninfo', 'primary_slot_name', 'recovery_target_timeline', 'include', 'include_if_exists', 'include_dir',
]);

/** Defaults a replication setup needs; the user may raise them in parameters. */
const REPLICATION_DEFAULTS: Readonly<Record<string, string | number | boolean>> = {
  wal_level: 'replica', hot_standby: true, wal_log_hints: true, max_wal_senders: 10, max_replication_slots: 10,
};

/** Reject parameter values that break replication, probes or pg_rewind. */
function checkParameter(key: string, v: string | number | boolean): void {
  if (!/^[A-Za-z_][A-Za-z0-9_.]*$/.test(key)) {
    throw new PostgresConfigError(`postgresql.parameters: '${key}' is not a valid parameter name`);
  }
  if (key === 'wal_level' && !['replica', 'logical'].includes(String(v))) {
    throw new PostgresConfigError(`postgresql.parameters.wal_level: expected 'replica' or 'logical', got '${String(v)}'`);
  }
  if ((key === 'hot_standby' || key === 'wal_log_hints') && !isOn(v)) {
    throw new PostgresConfigError(`postgresql.parameters.${key}: must be on (replicas are probed with queries; ` +
      `pg_rewind needs hint bits logged), got '${String(v)}'`);
  }
}

/**
 * listen_addresses: the configured hosts, plus 127.0.0.1 unless a wildcard or loopback is already
 * listed, because the agent's own connections (probes, sql()) go to 127.0.0.1.
 */
export function listenAddresses(hosts: readonly string[]): string {
  const list = [...hosts];
  if (!list.some((h) => ['*', '0.0.0.0', '127.0.0.1', 'localhost'].includes(h))) list.push('127.0.0.1');
  return list.join(',');
}

/** The managed `<base>.conf`. */
export function renderManagedConfig(s: PostgresSettings, p: ConfigPaths): string {
  const settings: Record<string, string | number | boolean> = { ...REPLICATION_DEFAULTS };
  const ignored: string[] = [];
  for (const [k, v] of Object.entries(s.parameters)) {
    if (OWNED_KEYS.has(k.toLowerCase())) { ignored.push(k); continue; }
    checkParameter(k, v);
    settings[k] = v;
  }
  Object.assign(settings, {
    listen_addresses: listenAddresses(s.listenHosts), port: s.port, cluster_name: s.scope,
    hba_file: p.hba, ident_file: p.ident,
  });
  const lines = [
    `${MANAGED_HEADER} for member ${JSON.stringify(s.name)} of cluster ${JSON.stringify(s.scope)}.`,
    '# It is rewritten before every start: change the orchestrator configuration, not this file.',
    `include ${quoteConfValue(p.baseConf)}`,
  ];
  if (ignored.length > 0) lines.push(`# ignored from parameters (set elsewhere in the orchestrator config): ${ignored.join(', ')}`);
  for (const [k, v] of Object.entries(settings)) lines.push(`${k} = ${formatParam(k, v)}`);
  lines.push(`include_if_exists ${quoteConfValue(p.standbyConf)}`);
  return lines.join('\n') + '\n';
}

/**
 * The standby file: where to stream from. The upstream's member name is recorded in a comment so
 * a probe can report whom we follow without parsing the conninfo.
 */
export function renderStandbyConfig(s: PostgresSettings, upstream: ConnInfo | null, slot: string | null): string {
  const lines = [`${MANAGED_HEADER}: replication upstream of member ${JSON.stringify(s.name)}.`];
  if (upstream) {
    lines.push(`${UPSTREAM_TAG}${JSON.stringify(upstream.member ?? null)}`);
    const ci = conninfo({
      user: s.replication.username, passfile: s.pgpassPath, host: upstream.host, port: upstream.port,
      sslmode: 'prefer', application_name: s.name,
    });
    lines.push(`primary_conninfo = ${quoteConfValue(ci)}`);
    if (s.useSlots && slot) lines.push(`primary_slot_name = ${quoteConfValue(slot)}`);
  }
  lines.push(`recovery_target_timeline = 'latest'`);
  return lines.join('\n') + '\n';
}

/** Upstream member name recorded by renderStandbyConfig (null: none, or an upstream without a name). */
export function parseUpstreamMember(standbyText: string): string | null {
  for (const line of standbyText.split('\n')) {
    if (!line.startsWith(UPSTREAM_TAG)) continue;
    try {
      const v: unknown = JSON.parse(line.slice(UPSTREAM_TAG.length));
      return typeof v === 'string' ? v : null;
    } catch {
      return null;
    }
  }
  return null;
}

/** An hba user name, always double-quoted so it is never read as a keyword or group (+name). */
function hbaUser(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * The hba file: our block first, then `userLines` (settings.pgHba, or the previous file with any
 * earlier block of ours removed). Our block lets the agent's own superuser connections in over
 * loopback TCP with a password; it comes first so that no later 'reject' line can lock the agent
 * out of its own server.
 */
export function renderHba(s: PostgresSettings, userLines: readonly string[]): string {
  const method = String(s.parameters['password_encryption'] ?? '').toLowerCase() === 'md5' ? 'md5' : 'scram-sha-256';
  const su = hbaUser(s.superuser.username);
  const block = [
    HBA_BEGIN,
    '# The agent connects as the superuser over 127.0.0.1/::1 for probes, user setup and slots,',
    '# and over a replication connection to read its own timeline (IDENTIFY_SYSTEM) as a standby.',
    `host all ${su} 127.0.0.1/32 ${method}`,
    `host all ${su} ::1/128 ${method}`,
    `host replication ${su} 127.0.0.1/32 ${method}`,
    `host replication ${su} ::1/128 ${method}`,
    HBA_END,
  ];
  return [...block, ...userLines].join('\n') + '\n';
}

/** Remove a previously written block of ours from hba text, returning the other lines. */
export function stripOurHbaBlock(text: string): string[] {
  const out: string[] = [];
  let inBlock = false;
  for (const line of text.replace(/\n$/, '').split('\n')) {
    if (line === HBA_BEGIN) { inBlock = true; continue; }
    if (line === HBA_END) { inBlock = false; continue; }
    if (!inBlock) out.push(line);
  }
  return out;
}

function pgpassField(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/:/g, '\\:');
}

/** The passfile: one wildcard line per distinct role (replication, rewind, superuser). */
export function renderPgpass(s: PostgresSettings): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const c of [s.replication, s.rewind, s.superuser]) {
    if (!c || seen.has(c.username)) continue;
    seen.add(c.username);
    lines.push(`*:*:*:${pgpassField(c.username)}:${pgpassField(c.password)}`);
  }
  return lines.join('\n') + '\n';
}
