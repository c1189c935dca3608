/**
 * One long-lived SQL connection to one node, for the chaos checkers. Reconnecting for every
 * statement (a SCRAM handshake each time) would cost the 2-core test machine more CPU than the
 * cluster itself at 10 writes per second per node; a connection is kept until the server or the
 * network breaks it. Only client-side timeouts are used: a server-side statement_timeout would
 * cancel a commit waiting for its synchronous standby, and PostgreSQL reports such a locally
 * committed write as a success.
 */
import pg from 'pg';
import type { AgentNode } from '../support/cluster.js';

export type LinkResult =
  | { readonly ok: true; readonly rows: readonly Record<string, unknown>[] }
  /** sqlState is PostgreSQL's error code when the server answered with an error, else null (the outcome of a commit is unknown). */
  | { readonly ok: false; readonly sqlState: string | null; readonly error: string };

/** SQL errors after which the session is still usable (read-only server, duplicate key). */
const KEEP_SESSION = new Set(['25006', '23505']);

export class Link {
  private client: pg.Client | null = null;
  /** `onConnect` runs once on each new session (e.g. session settings). */
  constructor(readonly node: AgentNode, private readonly timeoutMs = 5000, private readonly onConnect: string | null = null) {}

  /** Run one statement; never throws. Connects first when there is no open session. */
  async run(sql: string, params: readonly unknown[] = []): Promise<LinkResult> {
    try {
      if (!this.client) {
        const c = this.node.client();
        c.on('error', () => undefined);
        this.client = c;
        await c.connect();
        if (this.onConnect) await this.withTimeout(c.query(this.onConnect));
      }
      const rows = await this.withTimeout(this.client.query(sql, params as unknown[]));
      return { ok: true, rows: rows.rows as Record<string, unknown>[] };
    } catch (e) {
      // Only a server-side error carries a SQLSTATE; socket errors (EPIPE, ECONNRESET) do not count.
      const sqlState = e instanceof pg.DatabaseError && typeof e.code === 'string' ? e.code : null;
      if (sqlState === null || !KEEP_SESSION.has(sqlState)) this.drop();
      return { ok: false, sqlState, error: String(e) };
    }
  }

  private async withTimeout<T>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    p.catch(() => undefined);
    try {
      return await Promise.race([p, new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer from ${this.node.name} within ${this.timeoutMs} ms`)), this.timeoutMs);
      })]);
    } finally { clearTimeout(timer); }
  }

  /** Tear the socket down at once: end() would wait for a statement blocked in the server. */
  drop(): void {
    const c = this.client;
    this.client = null;
    if (!c) return;
    const stream = (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
    stream?.destroy();
    c.end().catch(() => undefined);
  }
}
