/**
 * This member's Consul session (shared/reference/dcs-layout.md §1.6): TTL = ttl/2, no health checks
 * by default, behavior "delete", lock-delay 0.
 *
 * Why ttl/2: Consul treats a session TTL as a lower bound and, in its implementation, invalidates a
 * session only after 2 x TTL without a renewal (its docs: sessions "may not be reaped for up to
 * double this TTL"). A session of ttl/2 therefore lives ttl seconds after its last renewal, the
 * same life as an etcd lease of ttl. `confirmedAt` relies on that factor of two, as Patroni does;
 * the documented guarantee alone would be ttl/2 (see the report of issue 6).
 *
 * Why no checks: a session tied to the node's serfHealth check is invalidated by a gossip blip,
 * which made Patroni lose the leader key on healthy nodes; the TTL alone is our failure detector.
 */
import { performance } from 'node:perf_hooks';
import { DcsUnavailableError } from '../errors.js';
import type { ConsulApi, ConsulCaller } from './client.js';
import { httpStatus, isInvalidTtl } from './errors.js';

export interface SessionSettings {
  /** "<scope>-<member>", as Patroni names it. */
  readonly name: string;
  /** The DCS ttl; the session's own TTL is half of it. */
  readonly ttlSeconds: number;
  /** Node check ids the session is bound to ([] by default). */
  readonly checks: readonly string[];
}

export class ConsulSession {
  private sessionId: string | null = null;
  private confirmed: number | null = null;
  private creating: Promise<string> | null = null;

  constructor(private readonly api: ConsulApi, private readonly caller: ConsulCaller, private readonly s: SessionSettings) {}

  get id(): string | null { return this.sessionId; }

  /** Send time (performance.now()) of the last create/renew the server confirmed; null without a session. */
  confirmedAt(): number | null {
    return this.sessionId ? this.confirmed : null;
  }

  /** Consul duration text of the session TTL, e.g. "15s" for ttl 30. */
  get ttlText(): string {
    return `${this.s.ttlSeconds / 2}s`;
  }

  /** The current session, creating one if there is none. Concurrent callers share one create. */
  ensure(): Promise<string> {
    if (this.sessionId) return Promise.resolve(this.sessionId);
    this.creating ??= this.create().finally(() => { this.creating = null; });
    return this.creating;
  }

  private async create(): Promise<string> {
    const sent = performance.now();
    const body = await this.caller.run('session create', (o) => this.api.session.create({
      ...o, name: this.s.name, ttl: this.ttlText, behavior: 'delete', lockdelay: '0s', checks: [...this.s.checks],
    })).catch((e: unknown) => {
      if (!isInvalidTtl((e as Error).cause)) throw e;
      // A user-fixable setting: say which value and what the server accepts.
      throw new DcsUnavailableError(
        `consul refused session TTL ${this.ttlText} (ttl ${this.s.ttlSeconds} / 2): expected a ttl of at least twice ` +
        `the agent's session_ttl_min (10s by default, so ttl >= 20)`, { cause: e });
    });
    const id = (body as { ID?: unknown } | null)?.ID;
    if (typeof id !== 'string' || !id) throw new DcsUnavailableError('consul session create: the answer carried no session ID');
    this.sessionId = id;
    this.confirmed = sent;
    return id;
  }

  /**
   * One renewal round trip. Resolves false (and forgets the id) when Consul no longer knows the
   * session: anything bound to it has been deleted. Rejects with DcsUnavailableError when Consul
   * cannot be reached within retry_timeout.
   */
  async renew(): Promise<boolean> {
    const id = this.sessionId;
    if (!id) return false;
    const sent = performance.now();
    const known = await this.caller.run('session renew', async (o) => {
      try {
        await this.api.session.renew({ ...o, id });
        return true;
      } catch (e) {
        // Consul answers 404 "Session id '...' not found" for an unknown or expired session.
        if (httpStatus(e) === 404) return false;
        throw e;
      }
    });
    if (!known) {
      if (this.sessionId === id) this.sessionId = null;
      return false;
    }
    if (this.sessionId === id) this.confirmed = Math.max(this.confirmed ?? 0, sent);
    return true;
  }

  /** Renew the session, or create a new one when it is gone. Resolves false when it had to be re-created. */
  async renewOrCreate(): Promise<boolean> {
    if (this.sessionId && (await this.renew())) return true;
    await this.ensure();
    return false;
  }

  /** Forget the session locally (after the server said it is gone). */
  forget(id: string): void {
    if (this.sessionId === id) this.sessionId = null;
  }

  /** Destroy the session on the server (best effort within `budgetMs`); keys bound to it are deleted. */
  async destroy(budgetMs: number): Promise<void> {
    const id = this.sessionId;
    this.sessionId = null;
    if (!id) return;
    await this.caller.run('session destroy', (o) => this.api.session.destroy({ ...o, id }), budgetMs).catch(() => undefined);
  }
}
