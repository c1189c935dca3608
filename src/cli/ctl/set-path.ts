/**
 * `edit-config --set key.path=value` and `--pg param=value`: parsing and applying to a config
 * object. Values are YAML ("5" is a number, "on" a string... as js-yaml reads YAML 1.2 core), and
 * null deletes the key, as in patronictl.
 */
import yaml from 'js-yaml';
import { usage } from './errors.js';

/** RFC 7386 merge patch (null deletes), used for --apply: the same function PATCH /config applies. */
export { mergePatch } from '../../api/handlers/config.js';

export interface SetChange {
  readonly path: readonly string[];
  /** null deletes the key. */
  readonly value: unknown;
}

function parseValue(text: string, arg: string): unknown {
  try {
    return yaml.load(text) ?? null;
  } catch {
    throw usage(`${arg}: the value is not valid YAML`);
  }
}

/**
 * Parses "a.b.c=value". Everything after postgresql.parameters is one key, because PostgreSQL
 * parameter names may contain dots (pg_stat_statements.track).
 */
export function parseSet(arg: string): SetChange {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw usage(`--set ${JSON.stringify(arg)}: expected key.path=value`);
  let path = arg.slice(0, eq).trim().split('.');
  if (path.some((p) => p === '')) throw usage(`--set ${JSON.stringify(arg)}: empty key in path "${arg.slice(0, eq)}"`);
  if (path[0] === 'postgresql' && path[1] === 'parameters' && path.length > 3) path = ['postgresql', 'parameters', path.slice(2).join('.')];
  return { path, value: parseValue(arg.slice(eq + 1), `--set ${arg.slice(0, eq)}`) };
}

/** Parses "param=value" as a PostgreSQL parameter (postgresql.parameters.param). */
export function parsePgSet(arg: string): SetChange {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw usage(`--pg ${JSON.stringify(arg)}: expected parameter=value`);
  const name = arg.slice(0, eq).trim();
  return { path: ['postgresql', 'parameters', name], value: parseValue(arg.slice(eq + 1), `--pg ${name}`) };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Returns a copy of `config` with the change applied; deleting leaves no empty parent objects behind. */
export function applySet(config: Readonly<Record<string, unknown>>, change: SetChange): Record<string, unknown> {
  const [head, ...rest] = change.path;
  const out: Record<string, unknown> = { ...config };
  if (head === undefined) return out;
  if (rest.length === 0) {
    if (change.value === null) delete out[head];
    else out[head] = change.value;
    return out;
  }
  const child = isObject(out[head]) ? (out[head] as Record<string, unknown>) : {};
  const next = applySet(child, { path: rest, value: change.value });
  if (Object.keys(next).length === 0 && change.value === null) delete out[head];
  else out[head] = next;
  return out;
}

/** The merge patch that turns `before` into `after` (what PATCH /config needs); {} when equal. */
export function diffAsPatch(before: unknown, after: unknown): Record<string, unknown> {
  const a = isObject(before) ? before : {};
  const b = isObject(after) ? after : {};
  const patch: Record<string, unknown> = {};
  for (const k of Object.keys(a)) if (!(k in b)) patch[k] = null;
  for (const [k, v] of Object.entries(b)) {
    const old = a[k];
    if (isObject(old) && isObject(v)) {
      const sub = diffAsPatch(old, v);
      if (Object.keys(sub).length > 0) patch[k] = sub;
    } else if (JSON.stringify(old) !== JSON.stringify(v)) {
      patch[k] = v;
    }
  }
  return patch;
}
