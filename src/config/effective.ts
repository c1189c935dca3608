/**
 * The effective configuration: the local file combined with the dynamic configuration from the DCS,
 * following Patroni's precedence (reference/config.md section 5.1):
 *
 * 1. defaults (ttl 30, loop_wait 10, retry_timeout 10, postgresql.use_slots true);
 * 2. from the dynamic config: ttl, loop_wait, retry_timeout, standby_cluster, and postgresql.* except
 *    the node-specific keys (connect_address, proxy_address, listen, config_dir, data_dir, pgpass,
 *    authentication), which the dynamic schema does not even hold;
 * 3. the local file on top: it wins for postgresql.* (parameters merged name by name) except
 *    use_slots, which must be the same on every node, and for every other top-level key. Local
 *    parameters that Patroni passes on the postgres command line are ignored (dynamic-only GUCs).
 *
 * The other dynamic keys (maximum_lag_on_failover, synchronous_mode, pause, ...) come straight from
 * the dynamic config. Pure function: no I/O, inputs are not modified.
 */
import { parseDynamicConfig, type DynamicConfig } from './dynamic.js';
import type { Config, PostgresqlConfig } from './schema.js';

/**
 * GUCs only the dynamic config may set: Patroni puts them on the postgres command line, because a
 * replica must match its primary (max_connections, ...) or the cluster must agree (wal_level, ...).
 */
export const DYNAMIC_ONLY_PARAMETERS: ReadonlySet<string> = new Set([
  'max_connections', 'max_locks_per_transaction', 'max_worker_processes', 'max_prepared_transactions',
  'wal_level', 'track_commit_timestamp', 'max_wal_senders', 'max_replication_slots', 'wal_keep_segments',
  'wal_keep_size',
]);

type Scalar = string | number | boolean;

/** postgresql settings after merging; the keys the dynamic config may supply are resolved. */
export type EffectivePostgresql = PostgresqlConfig & {
  use_slots: boolean;
  use_pg_rewind: boolean;
  remove_data_directory_on_rewind_failure: boolean;
  remove_data_directory_on_diverged_timelines: boolean;
  parameters: Record<string, Scalar>;
};

/** Keys of the dynamic config used as they are (all but postgresql and the timing keys). */
export type DynamicGlobals = Omit<DynamicConfig, 'postgresql' | 'ttl' | 'loop_wait' | 'retry_timeout'>;

export type EffectiveConfig = Omit<Config, 'ttl' | 'loop_wait' | 'retry_timeout' | 'postgresql'> & DynamicGlobals & {
  ttl: number;
  loop_wait: number;
  retry_timeout: number;
  postgresql: EffectivePostgresql;
};

function mergeParameters(dynamic: Record<string, Scalar>, local: Record<string, Scalar> | undefined): Record<string, Scalar> {
  const out: Record<string, Scalar> = { ...dynamic };
  for (const [name, value] of Object.entries(local ?? {})) {
    if (!DYNAMIC_ONLY_PARAMETERS.has(name)) out[name] = value;
  }
  return out;
}

function mergePostgresql(local: PostgresqlConfig, dyn: DynamicConfig['postgresql']): EffectivePostgresql {
  return {
    ...local,
    use_slots: dyn.use_slots,
    use_pg_rewind: local.use_pg_rewind ?? dyn.use_pg_rewind ?? false,
    remove_data_directory_on_rewind_failure:
      local.remove_data_directory_on_rewind_failure ?? dyn.remove_data_directory_on_rewind_failure ?? false,
    remove_data_directory_on_diverged_timelines:
      local.remove_data_directory_on_diverged_timelines ?? dyn.remove_data_directory_on_diverged_timelines ?? false,
    parameters: mergeParameters(dyn.parameters, local.parameters),
    pg_hba: local.pg_hba ?? dyn.pg_hba,
    pg_ident: local.pg_ident ?? dyn.pg_ident,
    recovery_conf: local.recovery_conf ?? dyn.recovery_conf,
  };
}

/**
 * Combines the local config with the dynamic config read from the DCS. `dynamic` null means the DCS
 * has no /config yet: the timing keys then come from the local top level (if set) over the defaults,
 * and everything else from defaults.
 */
export function effectiveConfig(local: Config, dynamic: DynamicConfig | null): EffectiveConfig {
  const dyn = dynamic ?? parseDynamicConfig({}).config;
  const timing = dynamic
    ? { ttl: dynamic.ttl, loop_wait: dynamic.loop_wait, retry_timeout: dynamic.retry_timeout }
    : { ttl: local.ttl ?? dyn.ttl, loop_wait: local.loop_wait ?? dyn.loop_wait, retry_timeout: local.retry_timeout ?? dyn.retry_timeout };
  const { postgresql: dynPg, ttl: _t, loop_wait: _l, retry_timeout: _r, ...globals } = dyn;
  const { postgresql: localPg, ttl: _lt, loop_wait: _ll, retry_timeout: _lr, ...localRest } = local;
  return {
    ...globals,
    ...localRest,
    ...timing,
    postgresql: mergePostgresql(localPg, dynPg),
  };
}
