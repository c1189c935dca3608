/**
 * Unknown-key detection: walks a zod schema's object shapes alongside the raw input and reports
 * each key the schema does not declare as a WARNING, with a "did you mean" hint when a declared
 * sibling key is a close spelling (`loop_wiat` -> loop_wait).
 *
 * Unknown keys are warnings, not errors, so that a config written for a newer Patroni still loads.
 * Free maps (zod records: parameters, users, ...) and the paths listed in `free` are not checked.
 */
import type * as z from 'zod';
import { joinPath, type Problem } from './problem.js';

/** The parts of a zod 4 schema definition this walker reads. */
interface SchemaDef {
  readonly type: string;
  readonly innerType?: z.ZodType;
  readonly in?: z.ZodType;
  readonly out?: z.ZodType;
  readonly shape?: Readonly<Record<string, z.ZodType>>;
  readonly options?: readonly z.ZodType[];
  readonly element?: z.ZodType;
}

/** Wrapper kinds whose only child is `innerType`. */
const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'catch', 'readonly', 'nonoptional']);

export interface UnknownKeyOptions {
  /** Paths (relative to the walked root, dotted) whose keys are free-form: not checked. */
  readonly free?: ReadonlySet<string>;
  /** Extra keys allowed in the object at `path` (e.g. method sections named by the user). */
  readonly allowExtra?: (path: string, obj: Readonly<Record<string, unknown>>) => readonly string[];
}

function defOf(schema: z.ZodType): SchemaDef {
  return schema._zod.def as unknown as SchemaDef;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Strips wrappers and preprocess/transform pipes down to the schema that gives the shape. */
function unwrap(schema: z.ZodType): z.ZodType {
  let cur = schema;
  for (let guard = 0; guard < 32; guard++) {
    const def = defOf(cur);
    if (WRAPPERS.has(def.type) && def.innerType) cur = def.innerType;
    else if (def.type === 'pipe' && def.in && def.out) {
      // z.preprocess(f, s) is pipe(transform, s); x.transform(f) is pipe(x, transform).
      cur = defOf(def.in).type === 'transform' ? def.out : def.in;
    } else return cur;
  }
  return cur;
}

/**
 * Optimal string alignment distance: Levenshtein plus adjacent transpositions, so that the common
 * typo of swapped letters (`wiat`) costs 1.
 */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number): number => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** The closest known key, if it is close enough to be a plausible typo of `key`. */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  const limit = Math.max(1, Math.floor(key.length / 3));
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const distance = editDistance(lower, candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= limit && bestDistance < key.length ? best : undefined;
}

/** Picks the union member matching the raw value's shape (object or list), if any. */
function unionMember(options: readonly z.ZodType[], raw: unknown): z.ZodType | undefined {
  const want = Array.isArray(raw) ? 'array' : isPlainObject(raw) ? 'object' : undefined;
  if (want === undefined) return undefined;
  return options.find((o) => defOf(unwrap(o)).type === want);
}

interface Walk {
  readonly opts: UnknownKeyOptions;
  readonly prefix: string;
  readonly out: Problem[];
}

function walk(schema: z.ZodType, raw: unknown, path: string, w: Walk): void {
  const base = unwrap(schema);
  const def = defOf(base);
  if (def.type === 'object' && def.shape && isPlainObject(raw)) walkObject(def.shape, raw, path, w);
  else if (def.type === 'array' && def.element && Array.isArray(raw)) {
    const element = def.element;
    raw.forEach((item, i) => walk(element, item, joinPath(path, i), w));
  } else if (def.type === 'union' && def.options) {
    const member = unionMember(def.options, raw);
    if (member) walk(member, raw, path, w);
  }
  // Records and scalars hold user-chosen keys or no keys: nothing to check.
}

function walkObject(shape: Readonly<Record<string, z.ZodType>>, raw: Record<string, unknown>, path: string, w: Walk): void {
  if (w.opts.free?.has(path)) return;
  const extra = new Set(w.opts.allowExtra?.(path, raw) ?? []);
  const known = Object.keys(shape);
  for (const [key, value] of Object.entries(raw)) {
    const child = shape[key];
    const childPath = joinPath(path, key);
    if (child) walk(child, value, childPath, w);
    else if (!extra.has(key)) {
      const hint = suggestKey(key, known);
      const message = hint ? `unknown key, did you mean ${hint}?` : 'unknown key, ignored';
      // The value is left out: an unknown key may be a misspelt password.
      w.out.push({ path: joinPath(w.prefix, childPath), message, severity: 'warning' });
    }
  }
}

/** Every key in `raw` that `schema` does not declare, as warnings whose paths start with `prefix`. */
export function findUnknownKeys(schema: z.ZodType, raw: unknown, prefix = '', opts: UnknownKeyOptions = {}): Problem[] {
  const out: Problem[] = [];
  walk(schema, raw, '', { opts, prefix, out });
  return out;
}
