/**
 * The dynamic configuration: `bootstrap.dcs` in the local file, and the DCS `/config` key.
 *
 * Two ways in:
 * - strictly, as part of the local file (schema.ts embeds `dynamicConfigSchema`): every problem is
 *   an error, because a person can fix the file before starting the agent;
 * - leniently, with `parseDynamicConfig`, for whatever is in the DCS: a bad value must never stop a
 *   running agent, so each bad key falls back to its default with a warning.
 *
 * Timing minimums. Patroni insists on ttl >= 20, loop_wait >= 1, retry_timeout >= 3. We accept
 * ttl >= 5, loop_wait >= 1, retry_timeout >= 1, because test clusters run with ttl 8-10 and
 * loop_wait 1-2, and what keeps a cluster safe is not any single floor but the rule
 * `loop_wait + 2 * retry_timeout <= ttl`: a primary that fails one DCS write retries for at most
 * retry_timeout, then demotes, and all of that must fit in the leader key's lease. That rule is an
 * ERROR. (No environment switch is needed to run tests with short timings.)
 */
import * as z from 'zod';
import { bool, int, oneOf, scalarMap, seconds, section, str, stringList } from './fields.js';
import { issuesToProblems, joinPath, problemAbout, type Checked, type Problem } from './problem.js';
import { findUnknownKeys, isPlainObject } from './unknown-keys.js';

/** Smallest accepted timing values (seconds); see the file comment for why they are this low. */
export const MIN_TTL = 5;
export const MIN_LOOP_WAIT = 1;
export const MIN_RETRY_TIMEOUT = 1;

/** Patroni's defaults for the three timing keys. */
export const DEFAULT_TIMING = { ttl: 30, loop_wait: 10, retry_timeout: 10 } as const;

/** Old spellings still honoured when the new name is absent (Patroni renamed master -> primary). */
export const LEGACY_NAMES: Readonly<Record<string, string>> = {
  master_start_timeout: 'primary_start_timeout',
  master_stop_timeout: 'primary_stop_timeout',
  permanent_slots: 'slots',
  permanent_replication_slots: 'slots',
};

const slotSchema = section('slot', {
  type: oneOf(['physical', 'logical']).default('physical'),
  database: str('a database name').optional(),
  plugin: str('a logical decoding plugin name').optional(),
});

const ignoreSlotSchema = section('ignore_slots entry', {
  name: str('a slot name').optional(),
  type: oneOf(['physical', 'logical']).optional(),
  database: str('a database name').optional(),
  plugin: str('a plugin name').optional(),
});

const standbyClusterSchema = section('standby_cluster', {
  host: str('a host name or address').optional(),
  port: int('a TCP port', 1, 65535).optional(),
  primary_slot_name: str('a slot name').optional(),
  restore_command: str('a shell command').optional(),
  archive_cleanup_command: str('a shell command').optional(),
  recovery_min_apply_delay: z.union([z.string(), z.number()], { error: 'expected a delay such as "5min" or a number of milliseconds' }).optional(),
  create_replica_methods: stringList('a list of replica creation method names').optional(),
});

/** Shape of `postgresql` inside the dynamic configuration. */
export const dynamicPostgresqlShape = {
  use_pg_rewind: bool().optional(),
  use_slots: bool().default(true),
  parameters: scalarMap('a map of PostgreSQL parameter names to values').default({}),
  pg_hba: stringList('a list of pg_hba.conf lines').optional(),
  pg_ident: stringList('a list of pg_ident.conf lines').optional(),
  recovery_conf: scalarMap('a map of recovery setting names to values').optional(),
  remove_data_directory_on_rewind_failure: bool().optional(),
  remove_data_directory_on_diverged_timelines: bool().optional(),
};

/** Shape of the dynamic configuration, with Patroni's defaults. */
export const dynamicShape = {
  ttl: seconds(MIN_TTL).default(DEFAULT_TIMING.ttl),
  loop_wait: seconds(MIN_LOOP_WAIT).default(DEFAULT_TIMING.loop_wait),
  retry_timeout: seconds(MIN_RETRY_TIMEOUT).default(DEFAULT_TIMING.retry_timeout),
  maximum_lag_on_failover: int('a number of bytes', 0).default(1048576),
  maximum_lag_on_syncnode: int('a number of bytes (-1 disables the check)', -1).default(-1),
  primary_start_timeout: seconds(0).default(300),
  primary_stop_timeout: seconds(0).default(0),
  synchronous_mode: bool().default(false),
  synchronous_mode_strict: bool().default(false),
  synchronous_node_count: int('a number of synchronous standbys', 1).default(1),
  failsafe_mode: bool().default(false),
  check_timeline: bool().default(false),
  max_timelines_history: int('a number of timeline history entries (0 keeps all)', 0).default(0),
  pause: bool().default(false),
  standby_cluster: standbyClusterSchema.optional(),
  slots: z.record(z.string(), slotSchema.nullable(), { error: 'expected a map of slot names to slot definitions' }).optional(),
  ignore_slots: z.array(ignoreSlotSchema, { error: 'expected a list of slot filters' }).optional(),
  postgresql: section('postgresql', dynamicPostgresqlShape).prefault({}),
};

/** Copies legacy key names onto their new names when the new name is absent, then drops them. */
function applyLegacyNames(raw: unknown): unknown {
  if (!isPlainObject(raw)) return raw;
  const out: Record<string, unknown> = { ...raw };
  for (const [oldName, newName] of Object.entries(LEGACY_NAMES)) {
    if (oldName in out) {
      if (out[newName] === undefined) out[newName] = out[oldName];
      delete out[oldName];
    }
  }
  return out;
}

/** The dynamic configuration schema (strict use: bootstrap.dcs in the local file). */
export const dynamicConfigSchema = z.preprocess(applyLegacyNames, section('bootstrap.dcs', dynamicShape));

/** The dynamic configuration with defaults applied. */
export type DynamicConfig = z.output<typeof dynamicConfigSchema>;

export interface Timing {
  readonly ttl: number;
  readonly loop_wait: number;
  readonly retry_timeout: number;
}

/**
 * The safety rule between the three timing keys, as a problem naming all three values, or null.
 * `prefix` is the dotted path of the block the keys are in ('' for the top level).
 */
export function timingProblem(t: Timing, prefix: string, severity: Problem['severity'] = 'error'): Problem | null {
  if (t.loop_wait + 2 * t.retry_timeout <= t.ttl) return null;
  return {
    path: joinPath(prefix, 'ttl'),
    value: { ...t },
    message: `loop_wait (${t.loop_wait}) + 2 * retry_timeout (${t.retry_timeout}) = ${t.loop_wait + 2 * t.retry_timeout} ` +
      `exceeds ttl (${t.ttl}); expected ttl >= loop_wait + 2 * retry_timeout so that a primary gives up ` +
      'its DCS retries before its leader key expires',
    severity,
  };
}

type Shape = Readonly<Record<string, z.ZodType>>;

/** Parses each key of `raw` on its own; a bad key falls back to its default with a warning. */
function parseKeys(shape: Shape, raw: Record<string, unknown>, prefix: string, warnings: Problem[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(shape)) {
    if (key === 'postgresql') continue;
    const result = schema.safeParse(raw[key]);
    if (result.success) {
      if (result.data !== undefined) out[key] = result.data;
      continue;
    }
    const fallback = schema.safeParse(undefined);
    const fallbackValue = fallback.success ? fallback.data : undefined;
    const note = fallbackValue === undefined ? '; ignored' : `; using the default ${JSON.stringify(fallbackValue)}`;
    for (const p of issuesToProblems(result.error.issues, raw[key], joinPath(prefix, key), 'warning')) {
      warnings.push({ ...p, message: p.message + note });
    }
    if (fallbackValue !== undefined) out[key] = fallbackValue;
  }
  return out;
}

/**
 * Reads a dynamic configuration from untrusted data (the DCS /config value, as parsed JSON or as a
 * JSON string). Never throws. Bad keys fall back to their defaults and are reported as warnings;
 * unknown keys are warnings. A breach of the timing rule is reported as an error, and the returned
 * config then has ttl raised to loop_wait + 2 * retry_timeout, the safe direction (a longer lease
 * never lets two primaries overlap), so the agent keeps running.
 * `pathPrefix` is put before every problem path (e.g. "bootstrap.dcs"); '' by default.
 */
export function parseDynamicConfig(json: unknown, pathPrefix = ''): Checked<DynamicConfig> {
  const errors: Problem[] = [];
  const warnings: Problem[] = [];
  let raw: unknown = json;
  if (typeof raw === 'string') {
    try {
      raw = JSON.parse(raw);
    } catch {
      warnings.push({ path: pathPrefix, message: 'expected a JSON object, got text that is not valid JSON; using defaults', severity: 'warning' });
      raw = {};
    }
  }
  if (raw === null || raw === undefined) raw = {};
  if (!isPlainObject(raw)) {
    warnings.push({ ...problemAbout(pathPrefix, raw, 'expected a JSON object', 'warning'), message: `expected a JSON object, got ${typeof raw}; using defaults` });
    raw = {};
  }
  const obj = applyLegacyNames(raw) as Record<string, unknown>;
  const top = parseKeys(dynamicShape, obj, pathPrefix, warnings);
  const pgPrefix = joinPath(pathPrefix, 'postgresql');
  let pgRaw = obj['postgresql'];
  if (pgRaw !== undefined && pgRaw !== null && !isPlainObject(pgRaw)) {
    warnings.push({ ...problemAbout(pgPrefix, pgRaw, 'expected a mapping', 'warning') });
    pgRaw = {};
  }
  top['postgresql'] = parseKeys(dynamicPostgresqlShape, (pgRaw ?? {}) as Record<string, unknown>, pgPrefix, warnings);
  warnings.push(...findUnknownKeys(dynamicConfigSchema, obj, pathPrefix));
  // parseKeys ran every key through its own schema, so `top` has the output type key by key.
  const config = top as DynamicConfig;
  const breach = timingProblem(config, pathPrefix);
  if (breach) {
    errors.push({ ...breach, message: `${breach.message}; using ttl ${config.loop_wait + 2 * config.retry_timeout}` });
    config.ttl = config.loop_wait + 2 * config.retry_timeout;
  }
  return { config, errors, warnings };
}
