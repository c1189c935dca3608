/**
 * Maps the configuration (local YAML + dynamic /config) onto the settings each layer takes:
 * PostgresSettings for src/postgres, HaSettings for decide(). Pure.
 */
import { dirname, join } from 'node:path';
import {
  effectiveConfig, parseDynamicConfig, parseHostPort, parseListen,
  type Config, type DynamicConfig, type EffectiveConfig,
} from '../config/index.js';
import type { DynamicConfigJson } from '../dcs/types.js';
import type { PostgresSettings, ToolOption } from '../postgres/types.js';
import type { HaSettings } from './types.js';

/** The dynamic config in force: the DCS's /config, or bootstrap.dcs before the cluster has one. */
export function dynamicFrom(config: Config, stored: DynamicConfigJson | null): { dynamic: DynamicConfig | null; warnings: string[] } {
  if (stored) {
    const parsed = parseDynamicConfig(stored);
    return { dynamic: parsed.config, warnings: [...parsed.errors, ...parsed.warnings].map((p) => `${p.path}: ${p.message}`) };
  }
  return { dynamic: (config.bootstrap?.dcs as DynamicConfig | undefined) ?? null, warnings: [] };
}

export function effective(config: Config, stored: DynamicConfigJson | null): EffectiveConfig {
  return effectiveConfig(config, dynamicFrom(config, stored).dynamic);
}

export function haSettings(eff: EffectiveConfig): HaSettings {
  return {
    ttlSeconds: eff.ttl,
    loopWaitSeconds: eff.loop_wait,
    retryTimeoutSeconds: eff.retry_timeout,
    maximumLagOnFailover: eff.maximum_lag_on_failover,
    primaryStartTimeoutSeconds: eff.primary_start_timeout,
    pause: eff.pause,
    useRewind: eff.postgresql.use_pg_rewind,
    removeDataDirectoryOnRewindFailure: eff.postgresql.remove_data_directory_on_rewind_failure,
    removeDataDirectoryOnDivergedTimelines: eff.postgresql.remove_data_directory_on_diverged_timelines,
    synchronousMode: eff.synchronous_mode,
    synchronousModeStrict: eff.synchronous_mode_strict,
    checkTimeline: eff.check_timeline,
    failsafeMode: eff.failsafe_mode,
  };
}

function toolOptions(v: unknown): ToolOption[] {
  if (!v) return [];
  if (Array.isArray(v)) return v.map((o) => (typeof o === 'string' ? o : Object.fromEntries(Object.entries(o as object).map(([k, x]) => [k, String(x)]))));
  if (typeof v === 'object') return Object.entries(v as object).map(([k, x]) => ({ [k]: String(x) }));
  return [];
}

export function postgresSettings(config: Config, eff: EffectiveConfig): PostgresSettings {
  const pg = eff.postgresql;
  const listen = parseListen(pg.listen);
  const connect = parseHostPort(pg.connect_address);
  const auth = pg.authentication;
  const hba = pg.pg_hba ?? config.bootstrap?.pg_hba ?? config.bootstrap?.qhb_hba ?? null;
  const users: Record<string, { password: string; options: string[] }> = {};
  for (const [name, u] of Object.entries(config.bootstrap?.users ?? {})) {
    users[name] = { password: String(u?.password ?? ''), options: (u?.options ?? []).map(String) };
  }
  return {
    name: config.name,
    scope: config.scope,
    dataDir: pg.data_dir,
    binDir: pg.bin_dir ?? '/usr/lib/postgresql/15/bin',
    ...(pg.config_dir ? { configDir: pg.config_dir } : {}),
    listenHosts: listen.hosts,
    port: listen.port,
    connectHost: connect.host,
    connectPort: connect.port,
    pgpassPath: pg.pgpass ?? join(dirname(pg.data_dir), `.pgpass-${config.name}`),
    superuser: { username: auth.superuser.username ?? 'postgres', password: String(auth.superuser.password ?? '') },
    replication: { username: auth.replication.username ?? 'replicator', password: String(auth.replication.password ?? '') },
    rewind: auth.rewind?.username ? { username: auth.rewind.username, password: String(auth.rewind.password ?? '') } : null,
    parameters: pg.parameters,
    pgHba: hba ? [...hba] : null,
    initdb: toolOptions(config.bootstrap?.initdb),
    pgCtlTimeoutSeconds: pg.pg_ctl_timeout,
    useSlots: pg.use_slots,
    createReplicaMethods: pg.create_replica_methods ?? ['basebackup'],
    basebackupOptions: toolOptions(pg.basebackup),
    ...(pg.config_base_name ? { configBaseName: pg.config_base_name } : {}),
    ...(pg.hba_file ? { hbaFile: pg.hba_file } : {}),
    ...(pg.ident_file ? { identFile: pg.ident_file } : {}),
    ...(pg.database ? { database: pg.database } : {}),
    bootstrapUsers: users,
  };
}
