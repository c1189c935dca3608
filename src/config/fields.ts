/**
 * Field builders shared by the local (schema.ts) and dynamic (dynamic.ts) schemas.
 *
 * Every builder carries its own "expected ..." message, so that rules.ts can turn a zod issue into
 * "<key path>: expected <what>, got <value>" without knowing which field failed. Values that YAML
 * 1.1 (Patroni's parser) would have read as numbers or booleans are accepted as strings too, because
 * js-yaml reads YAML 1.2, and environment variables always arrive as strings.
 */
import * as z from 'zod';

/** Words that YAML 1.1 reads as booleans; Patroni users write `nofailover: yes` and `mode: off`. */
const TRUE_WORDS = new Set(['true', 'yes', 'on', '1', 'y']);
const FALSE_WORDS = new Set(['false', 'no', 'off', '0', 'n']);

/** Turns "42" (from env vars or quoted YAML) into 42; leaves anything else for the schema to judge. */
function numericString(value: unknown): unknown {
  if (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value)) return Number(value);
  return value;
}

/** Turns "yes"/"off"/... into booleans; leaves anything else for the schema to judge. */
export function booleanWord(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const word = value.trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  return value;
}

/** An integer with an optional inclusive range; `what` completes "expected ...". */
export function int(what: string, min?: number, max?: number) {
  const range = min !== undefined && max !== undefined ? ` between ${min} and ${max}`
    : min !== undefined ? ` >= ${min}` : max !== undefined ? ` <= ${max}` : '';
  const expected = `expected ${what}${range}`;
  // A value of the wrong type gets the plain "expected <what>"; the range is named when it matters.
  let schema = z.int({ error: `expected ${what}` });
  if (min !== undefined) schema = schema.min(min, { error: expected });
  if (max !== undefined) schema = schema.max(max, { error: expected });
  return z.preprocess(numericString, schema);
}

/** A duration in whole seconds (ttl, loop_wait, timeouts). */
export function seconds(min = 0) {
  return int('an integer number of seconds', min);
}

/** A boolean; also accepts the YAML 1.1 words yes/no/on/off. */
export function bool() {
  return z.preprocess(booleanWord, z.boolean({ error: 'expected true or false' }));
}

/** A string; `what` names what the string holds, e.g. "a file path". */
export function str(what = 'a string') {
  return z.string({ error: `expected ${what}` });
}

/** A non-empty string (names, paths that must not be blank). */
export function nonEmpty(what: string) {
  return z.string({ error: `expected ${what}` }).min(1, { error: `expected ${what}, not an empty string` });
}

/**
 * A secret or a user name: YAML reads `password: 12345` as a number, which users do not mean,
 * so numbers are turned into strings. Error messages never echo the value (see rules.ts).
 */
export function secret(what = 'a string') {
  return z.preprocess((v) => (typeof v === 'number' ? String(v) : v), z.string({ error: `expected ${what}` }));
}

/** One of a fixed set of words. */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, { error: `expected one of ${values.join(', ')}` });
}

/** A list of strings. */
export function stringList(what = 'a list of strings') {
  return z.array(z.string({ error: `expected ${what}` }), { error: `expected ${what}` });
}

/**
 * A list given either as a YAML list or as one comma-separated string ("a:1,b:2"), normalised to a
 * list of trimmed, non-empty items (Patroni accepts both for etcd hosts, consul checks, ...).
 */
export function listOrCommaString(what: string) {
  return z
    .union([z.array(z.string()), z.string()], { error: `expected ${what} as a list or a comma-separated string` })
    .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter((s) => s.length > 0));
}

/** A scalar configuration value (a GUC value in `parameters`, an initdb option value). */
export const scalar = z.union([z.string(), z.number(), z.boolean()], {
  error: 'expected a string, a number or true/false',
});

/** A map of names to scalar values (postgresql.parameters, recovery_conf, ...). */
export function scalarMap(what = 'a map of names to values') {
  return z.record(z.string(), scalar, { error: `expected ${what}` });
}

/** A map of names to strings (HTTP headers, log loggers). */
export function stringMap(what = 'a map of names to strings') {
  return z.record(z.string(), z.string({ error: 'expected a string' }), { error: `expected ${what}` });
}

/** A section: a YAML mapping with known keys (unknown keys are reported by unknown-keys.ts). */
export function section<S extends z.ZodRawShape>(name: string, shape: S) {
  return z.object(shape, { error: `expected the ${name} section to be a mapping of keys to values` });
}

/**
 * A section that keeps keys it does not declare (they still get unknown-key warnings unless the
 * path is listed as free in unknown-keys.ts): bootstrap and postgresql hold method sections named
 * by the user (`bootstrap.method`, `postgresql.create_replica_methods`).
 */
export function openSection<S extends z.ZodRawShape>(name: string, shape: S) {
  return z.looseObject(shape, { error: `expected the ${name} section to be a mapping of keys to values` });
}
