/**
 * Validation of a whole local configuration held in memory: schema, cross-field rules and unknown
 * keys, every problem collected in one pass.
 */
import { LEGACY_NAMES } from './dynamic.js';
import { issuesToProblems, problemAbout, type Checked, type Problem } from './problem.js';
import { checkRules, type RuleOptions } from './rules.js';
import { configSchema, type Config } from './schema.js';
import { findUnknownKeys, isPlainObject } from './unknown-keys.js';

/** Free-form sections: custom tags, and QLUSTER's Raft settings (defined elsewhere). */
const FREE_PATHS: ReadonlySet<string> = new Set(['tags', 'raft']);

/**
 * Keys allowed beside the declared ones: `bootstrap.<method>` for a custom bootstrap method,
 * `postgresql.<method>` for each replica creation method, and legacy names in bootstrap.dcs.
 */
function methodSections(path: string, obj: Readonly<Record<string, unknown>>): string[] {
  if (path === 'bootstrap' && typeof obj['method'] === 'string') return [obj['method']];
  // Legacy names (master_start_timeout, ...) are honoured, so they are not unknown keys.
  if (path === 'bootstrap.dcs') return Object.keys(LEGACY_NAMES);
  if (path === 'postgresql' && Array.isArray(obj['create_replica_methods'])) {
    return obj['create_replica_methods'].filter((m): m is string => typeof m === 'string');
  }
  return [];
}

/**
 * Checks raw configuration input (parsed YAML with env overrides applied). `config` is null when
 * there is at least one error; warnings never block.
 */
export function validateConfig(raw: unknown, opts: RuleOptions = {}): Checked<Config | null> {
  if (raw === undefined || raw === null) {
    const message = 'the configuration is empty; expected a YAML mapping with scope, name, restapi, postgresql and one DCS section';
    return { config: null, errors: [{ path: '', message, severity: 'error' }], warnings: [] };
  }
  if (!isPlainObject(raw)) {
    return { config: null, errors: [problemAbout('', raw, 'expected a YAML mapping of keys to values', 'error')], warnings: [] };
  }
  const parsed = configSchema.safeParse(raw);
  const errors: Problem[] = parsed.success ? [] : issuesToProblems(parsed.error.issues, raw, '', 'error');
  const warnings: Problem[] = [];
  for (const p of checkRules(raw, opts)) (p.severity === 'error' ? errors : warnings).push(p);
  warnings.push(...findUnknownKeys(configSchema, raw, '', { free: FREE_PATHS, allowExtra: methodSections }));
  return { config: parsed.success && errors.length === 0 ? parsed.data : null, errors, warnings };
}
