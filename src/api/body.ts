/**
 * Validation of JSON request bodies for the mutating endpoints. Each endpoint declares its fields;
 * anything else is refused with 400 naming the field, so a typo ("candiate") is an error rather
 * than a silently ignored key.
 */
import { RequestError } from './types.js';

export type FieldType =
  | { readonly kind: 'string'; readonly oneOf?: readonly string[] }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'number'; readonly positive?: boolean };

export type BodySpec = Readonly<Record<string, FieldType>>;

export const str = (oneOf?: readonly string[]): FieldType => (oneOf ? { kind: 'string', oneOf } : { kind: 'string' });
export const bool = (): FieldType => ({ kind: 'boolean' });
export const num = (positive = false): FieldType => ({ kind: 'number', positive });

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function checkField(name: string, type: FieldType, v: unknown): void {
  const bad = (expected: string): never => {
    throw new RequestError(400, `field "${name}": expected ${expected}, got ${describe(v)}`);
  };
  switch (type.kind) {
    case 'string':
      if (typeof v !== 'string') bad('a string');
      if (type.oneOf && !type.oneOf.includes(v as string)) bad(`one of ${type.oneOf.join(', ')}`);
      return;
    case 'boolean':
      if (typeof v !== 'boolean') bad('true or false');
      return;
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) bad('a number');
      if (type.positive && (v as number) <= 0) bad('a number greater than 0');
      return;
  }
}

/**
 * Checks that `body` is a JSON object whose keys are all in `spec` with the declared types, and
 * returns it. `undefined` (no body) becomes {}: callers decide separately whether a body is required.
 * Throws RequestError(400) naming the first offending field.
 */
export function validateBody(body: unknown, spec: BodySpec): Record<string, unknown> {
  if (body === undefined) return {};
  if (!isPlainObject(body)) throw new RequestError(400, `request body: expected a JSON object, got ${describe(body)}`);
  for (const [key, value] of Object.entries(body)) {
    const type = spec[key];
    if (!type) {
      const known = Object.keys(spec);
      throw new RequestError(400, `unknown field "${key}"; expected ${known.length ? `one of ${known.join(', ')}` : 'no fields'}`);
    }
    checkField(key, type, value);
  }
  return body;
}

/** Parses a request body as JSON; throws RequestError(400) saying where it is malformed. */
export function parseJsonBody(text: string): unknown {
  if (text.trim() === '') throw new RequestError(400, 'request body: expected JSON, got an empty body');
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    // Only the position: the parser's message quotes the body, which may hold a password.
    const at = e instanceof SyntaxError ? /at position (\d+)/.exec(e.message) : null;
    throw new RequestError(400, `request body: invalid JSON${at ? ` at position ${at[1]}` : ''}`);
  }
}
