/**
 * SQL connections for the agent. Every call has a hard budget covering connect and query: a hung
 * server costs at most that long, never a stuck HA cycle.
 *
 * Connections are kept and reused per target (host, port, user, database). A new connection per
 * call cost more CPU than everything else the agent does at idle: each one runs a SCRAM handshake
 * (4096 PBKDF2 iterations on both sides), several times per HA cycle. A kept connection is dropped
 * on any error or budget overrun (disconnecting cancels the work server-side) and re-made on the
 * next call, so a restarted server costs one failed call at most. Replication connections are
 * never kept.
 */
import pg from 'pg';
import { PostgresQueryError } from './errors.js';

export interface SqlTarget {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
}

export type Row = Record<string, unknown>;

/** Default budget for one call (connect + statements). */
export const DEFAULT_BUDGET_MS = 2000;

function describe(err: unknown): { message: string; code: string | null } {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { message: err.message, code: typeof code === 'string' ? code : null };
  }
  return { message: String(err), code: null };
}

/**
 * Connect, run `fn`, disconnect; reject with PostgresQueryError on any failure or when `budgetMs`
 * elapses (the connection is then destroyed, cancelling the work server-side on disconnect).
 */
function newClient(target: SqlTarget, budgetMs: number, replication: boolean): pg.Client {
  const client = new pg.Client({
    host: target.host, port: target.port, user: target.user, password: target.password, database: target.database,
    connectionTimeoutMillis: budgetMs,
    // A replication connection (walsender) accepts IDENTIFY_SYSTEM and TIMELINE_HISTORY.
    ...(replication ? { replication: 'database' } : {}),
    application_name: 'orchestrator',
    keepAlive: true,
  });
  // A socket error after we gave up (or on an idle kept connection) must not become an unhandled 'error' event.
  client.on('error', () => undefined);
  return client;
}

interface Kept { readonly client: pg.Client; readonly ready: Promise<void> }
const kept = new Map<string, Kept>();

/** Told when a kept connection ends without our asking (see onKeptConnectionLost). */
const lostListeners = new Set<() => void>();

/**
 * Calls `listener` whenever a kept connection is closed by the server side: an idle backend exits
 * at once when its postmaster dies, and all backends go when the server crashes or stops, so this
 * is the earliest sign of a dead PostgreSQL (no polling needed). Returns the unsubscribe function.
 */
export function onKeptConnectionLost(listener: () => void): () => void {
  lostListeners.add(listener);
  return () => { lostListeners.delete(listener); };
}

const keyOf = (t: SqlTarget): string => JSON.stringify([t.host, t.port, t.user, t.password, t.database]);

function drop(key: string, k: Kept): void {
  if (kept.get(key) === k) kept.delete(key);
  void k.client.end().catch(() => undefined);
}

/** The kept connection for `target`, connecting it if needed. */
function acquire(target: SqlTarget, budgetMs: number): { key: string; k: Kept } {
  const key = keyOf(target);
  let k = kept.get(key);
  if (!k) {
    const client = newClient(target, budgetMs, false);
    const entry: Kept = { client, ready: client.connect().then(() => undefined) };
    // An 'error' or 'end' on a connection that is still kept comes from the server side (a
    // backend sends FATAL and closes when its postmaster dies): drop it and tell the listeners.
    const lost = () => {
      if (kept.get(key) !== entry) return; // already dropped (by us or by the other event)
      drop(key, entry);
      for (const l of lostListeners) l();
    };
    client.on('end', lost);
    client.on('error', lost);
    kept.set(key, entry);
    k = entry;
  }
  return { key, k };
}

/** Close every kept connection (agent shutdown, tests). */
export async function closeKeptConnections(): Promise<void> {
  const all = [...kept.entries()];
  kept.clear();
  await Promise.all(all.map(([, k]) => k.client.end().catch(() => undefined)));
}

/**
 * Run `fn` on a connection to `target`; reject with PostgresQueryError on any failure or when
 * `budgetMs` elapses.
 */
export async function withClient<T>(target: SqlTarget, budgetMs: number, fn: (c: pg.Client) => Promise<T>, opts: { replication?: boolean } = {}): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  let onTimeout = (): void => {};
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new PostgresQueryError(`no answer from ${target.host}:${target.port} within ${budgetMs} ms`, null));
    }, budgetMs);
  });
  if (opts.replication) {
    const client = newClient(target, budgetMs, true);
    onTimeout = () => void client.end().catch(() => undefined);
    try {
      return await Promise.race([(async () => { await client.connect(); return fn(client); })(), deadline]);
    } catch (err) {
      throw wrap(target, err);
    } finally {
      clearTimeout(timer);
      void client.end().catch(() => undefined);
    }
  }
  const { key, k } = acquire(target, budgetMs);
  onTimeout = () => drop(key, k);
  try {
    return await Promise.race([(async () => { await k.ready; return fn(k.client); })(), deadline]);
  } catch (err) {
    drop(key, k);
    throw wrap(target, err);
  } finally {
    clearTimeout(timer);
  }
}

function wrap(target: SqlTarget, err: unknown): PostgresQueryError {
  if (err instanceof PostgresQueryError) return err;
  const d = describe(err);
  return new PostgresQueryError(`query on ${target.host}:${target.port} as ${target.user} failed: ${d.message}`, d.code, { cause: err });
}

/** One statement with bind parameters; returns its rows. */
export async function query(target: SqlTarget, text: string, params: readonly unknown[] = [], budgetMs = DEFAULT_BUDGET_MS): Promise<Row[]> {
  return withClient(target, budgetMs, async (c) => (await c.query(text, params as unknown[])).rows as Row[]);
}
