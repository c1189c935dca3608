/**
 * Short-lived SQL connections for the agent. Every call has a hard budget covering connect and
 * query: a hung server costs at most that long, never a stuck HA cycle. A new connection per call
 * keeps no state to go stale across restarts; at one probe per loop_wait the cost is negligible.
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
export async function withClient<T>(target: SqlTarget, budgetMs: number, fn: (c: pg.Client) => Promise<T>, opts: { replication?: boolean } = {}): Promise<T> {
  const client = new pg.Client({
    host: target.host, port: target.port, user: target.user, password: target.password, database: target.database,
    // A replication connection (walsender) accepts IDENTIFY_SYSTEM and TIMELINE_HISTORY.
    ...(opts.replication ? { replication: 'database' } : {}),
    connectionTimeoutMillis: budgetMs,
    statement_timeout: budgetMs,
    query_timeout: budgetMs,
    application_name: 'orchestrator',
  });
  // A socket error after we gave up must not become an unhandled 'error' event.
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new PostgresQueryError(
      `no answer from ${target.host}:${target.port} within ${budgetMs} ms`, null)), budgetMs);
  });
  try {
    return await Promise.race([(async () => { await client.connect(); return fn(client); })(), deadline]);
  } catch (err) {
    if (err instanceof PostgresQueryError) throw err;
    const d = describe(err);
    throw new PostgresQueryError(`query on ${target.host}:${target.port} as ${target.user} failed: ${d.message}`, d.code, { cause: err });
  } finally {
    clearTimeout(timer);
    void client.end().catch(() => undefined);
  }
}

/** One statement with bind parameters; returns its rows. */
export async function query(target: SqlTarget, text: string, params: readonly unknown[] = [], budgetMs = DEFAULT_BUDGET_MS): Promise<Row[]> {
  return withClient(target, budgetMs, async (c) => (await c.query(text, params as unknown[])).rows as Row[]);
}
