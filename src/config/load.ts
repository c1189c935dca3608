/**
 * Reading the local configuration from disk (or PATRONI_CONFIGURATION), and re-reading it on SIGHUP.
 *
 * Contract: never throws for anything a user can cause (missing file, bad YAML, bad values); every
 * problem comes back in `errors`/`warnings`, and `config` is null exactly when `errors` is non-empty.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import yaml from 'js-yaml';
import { validateConfig } from './check.js';
import { applyEnv } from './env.js';
import type { Checked, Problem } from './problem.js';
import type { RuleOptions } from './rules.js';
import type { Config } from './schema.js';
import { isPlainObject } from './unknown-keys.js';

export type LoadResult = Checked<Config | null>;
export type LoadOptions = RuleOptions;
type Env = Readonly<Record<string, string | undefined>>;

function fileError(message: string): Problem {
  return { path: '', message, severity: 'error' };
}

/** Parses YAML text; a syntax error becomes a problem with its line and column (1-based). */
function parseYaml(text: string, source: string): { raw: unknown; errors: Problem[] } {
  try {
    return { raw: yaml.load(text, { filename: source }), errors: [] };
  } catch (err) {
    if (!(err instanceof yaml.YAMLException)) throw err;
    // Only the reason and position: js-yaml's full message quotes the source line, which may hold a password.
    const where = err.mark ? ` at line ${err.mark.line + 1}, column ${err.mark.column + 1}` : '';
    return { raw: undefined, errors: [fileError(`YAML syntax error in ${source}${where}: ${err.reason}`)] };
  }
}

/** Merges mappings recursively (later wins); used for a directory of YAML files, as Patroni does. */
function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = deepMerge(out[k], v);
  return out;
}

function describeFsError(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOENT') return 'no such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'EISDIR') return 'is a directory';
  return err instanceof Error ? err.message : String(err);
}

/** Reads one file or every *.yml / *.yaml file of a directory (sorted by name, merged in order). */
function readSource(path: string): { raw: unknown; errors: Problem[] } {
  try {
    if (!statSync(path).isDirectory()) return parseYaml(readFileSync(path, 'utf8'), path);
    const files = readdirSync(path).filter((f) => /\.ya?ml$/.test(f)).sort();
    if (files.length === 0) return { raw: undefined, errors: [fileError(`cannot read configuration directory ${path}: it holds no .yml or .yaml file`)] };
    let raw: unknown = undefined;
    const errors: Problem[] = [];
    for (const file of files) {
      const one = parseYaml(readFileSync(join(path, file), 'utf8'), join(path, file));
      errors.push(...one.errors);
      raw = deepMerge(raw, one.raw);
    }
    return { raw, errors };
  } catch (err) {
    return { raw: undefined, errors: [fileError(`cannot read configuration file ${path}: ${describeFsError(err)}`)] };
  }
}

/**
 * Loads and validates the local configuration. `path` null means "no file": the configuration then
 * comes from PATRONI_CONFIGURATION, or from PATRONI_* variables alone.
 */
export function loadConfig(path: string | null, env: Env = process.env, opts: LoadOptions = {}): LoadResult {
  let raw: unknown;
  if (path === null || path === '') {
    if (env['PATRONI_CONFIGURATION']) {
      const parsed = parseYaml(env['PATRONI_CONFIGURATION'], 'PATRONI_CONFIGURATION');
      if (parsed.errors.length > 0) return { config: null, errors: parsed.errors, warnings: [] };
      // With PATRONI_CONFIGURATION the YAML is the whole configuration: no other overrides apply.
      return validateConfig(parsed.raw, opts);
    }
    raw = applyEnv({}, env);
  } else {
    const source = readSource(path);
    if (source.errors.length > 0) return { config: null, errors: source.errors, warnings: [] };
    raw = applyEnv(source.raw ?? {}, env);
  }
  return validateConfig(raw, opts);
}

/** Top-level keys whose values differ between two configurations, sorted. */
export function changedSections(before: Config, after: Config): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys]
    .filter((k) => !isDeepStrictEqual((before as Record<string, unknown>)[k], (after as Record<string, unknown>)[k]))
    .sort();
}

export type ReloadResult =
  | { readonly ok: true; readonly config: Config; readonly changed: string[]; readonly warnings: Problem[] }
  | { readonly ok: false; readonly config: Config; readonly errors: Problem[]; readonly warnings: Problem[] };

/**
 * Re-reads the configuration for SIGHUP / POST /reload. On success returns the new config and the
 * top-level sections that changed (empty: nothing to do). On any error returns the CURRENT config
 * unchanged with the errors: a broken edit must not take down a running agent.
 */
export function reloadConfig(path: string | null, current: Config, env: Env = process.env, opts: LoadOptions = {}): ReloadResult {
  const result = loadConfig(path, env, opts);
  if (result.config === null) return { ok: false, config: current, errors: result.errors, warnings: result.warnings };
  return { ok: true, config: result.config, changed: changedSections(current, result.config), warnings: result.warnings };
}
