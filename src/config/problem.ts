/**
 * Problems found in a configuration, and the wording of zod issues as problems.
 *
 * Invariant: a problem never carries a secret. When the key path ends in a secret-bearing name
 * (password, token, ...), `value` is left out and the message does not quote the value.
 */
import type * as z from 'zod';

/** One thing wrong (or suspicious) in a configuration. */
export interface Problem {
  /** Dotted key path, `[i]` for list items, e.g. "bootstrap.dcs.ttl"; '' for the whole file. */
  readonly path: string;
  /** The offending value as read (absent for secrets, unknown keys and missing keys). */
  readonly value?: unknown;
  /** What is wrong and what was expected; does not repeat `path`. */
  readonly message: string;
  readonly severity: 'error' | 'warning';
}

/** The outcome of checking some configuration input. */
export interface Checked<T> {
  readonly config: T;
  readonly errors: Problem[];
  readonly warnings: Problem[];
}

type PathItem = PropertyKey;

/** Key names whose values are secrets: never shown in messages. */
const SECRET_KEYS = new Set(['password', 'sslpassword', 'keyfile_password', 'key_password', 'token']);

/** Joins a path as people write it: `a.b[2].c`. */
export function formatPath(items: readonly PathItem[], prefix = ''): string {
  let out = prefix;
  for (const item of items) {
    if (typeof item === 'number') out += `[${item}]`;
    else out += out === '' ? String(item) : `.${String(item)}`;
  }
  return out;
}

/** Appends one key to a dotted path. */
export function joinPath(prefix: string, key: string | number): string {
  return formatPath([key], prefix);
}

/** True when the last key of the path names a secret. */
export function isSecretPath(path: string): boolean {
  const last = path.split('.').pop() ?? '';
  return SECRET_KEYS.has(last.replace(/\[\d+\]$/, ''));
}

/** The value found in `raw` at `path`, or undefined. */
export function valueAt(raw: unknown, path: readonly PathItem[]): unknown {
  let cur: unknown = raw;
  for (const item of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[item];
  }
  return cur;
}

/** Renders a value for a message: strings quoted, long values cut. */
export function showValue(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** Sections whose scalar replacement (`superuser: "postgres:pw"`) may well be a credential. */
const CREDENTIAL_SECTIONS = new Set(['authentication', 'superuser', 'replication', 'rewind']);

/** True when `value` holds a secret-named key at any depth (a section of the wrong shape). */
function holdsSecret(value: unknown, depth = 0): boolean {
  if (value === null || typeof value !== 'object' || depth > 8) return false;
  return Object.entries(value).some(([k, v]) => SECRET_KEYS.has(k) || holdsSecret(v, depth + 1));
}

/** True when showing `value` found at `path` could reveal a secret. */
function mustHide(path: string, value: unknown): boolean {
  if (isSecretPath(path) || holdsSecret(value)) return true;
  const last = path.split('.').pop() ?? '';
  return typeof value === 'string' && CREDENTIAL_SECTIONS.has(last);
}

/** Builds a problem about `value` at `path`, hiding the value when it could reveal a secret. */
export function problemAbout(path: string, value: unknown, expected: string, severity: Problem['severity']): Problem {
  if (mustHide(path, value)) return { path, message: `${expected} (value not shown: secret)`, severity };
  return { path, value, message: `${expected}, got ${showValue(value)}`, severity };
}

/** zod's built-in wording ("Invalid input: expected string, received number") cut to "expected string". */
function expectedPart(message: string): string {
  if (message.startsWith('expected ')) return message;
  const m = /expected [^,]+/.exec(message);
  return m ? m[0] : message;
}

/**
 * Rewords zod issues as problems. `raw` is the input that was parsed (the value is looked up there,
 * so the message shows what the user wrote, not what a preprocess step made of it).
 */
export function issuesToProblems(
  issues: readonly z.core.$ZodIssue[], raw: unknown, prefix: string, severity: Problem['severity'],
): Problem[] {
  return issues.map((issue) => {
    const path = formatPath(issue.path, prefix);
    const value = valueAt(raw, issue.path);
    const expected = expectedPart(issue.message);
    if (value === undefined && issue.code === 'invalid_type') {
      const section = /^expected the .* section to be a mapping/.test(expected);
      return { path, message: section ? 'required section is missing' : `required key is missing (${expected})`, severity };
    }
    return problemAbout(path, value, expected, severity);
  });
}
