/**
 * The one seam between the adapter and the npm `consul` package (v2): a narrow interface of the few
 * calls we make (STYLE §5.9, so tests could hand in a small fake object), the client's construction
 * from our settings, and `ConsulCaller`, which runs every call with a deadline.
 *
 * Deadlines: the package has a per-request `timeout` (ms) and aborts a request when its `ctx`
 * EventEmitter emits 'cancel'; it has no notion of an overall deadline, so `ConsulCaller` retries
 * within retry_timeout itself and gives each attempt only the time left. Passing a ctx with
 * `includeResponse = true` makes the package resolve `[response, body]`, which is how we read the
 * X-Consul-Index header; no call needs `fetch`.
 */
import { EventEmitter } from 'node:events';
import { Agent as HttpsAgent } from 'node:https';
import { Agent as HttpAgent, type IncomingMessage } from 'node:http';
import { performance } from 'node:perf_hooks';
import Consul from 'consul';
import pRetry, { AbortError } from 'p-retry';
import { DcsUnavailableError } from '../errors.js';
import { describeFailure, isRetryable, toDcsError } from './errors.js';

/** Options every call of the package accepts (the ones we use). */
export interface CallOptions {
  /** Per-request timeout, ms. */
  timeout?: number;
  ctx?: EventEmitter;
  consistent?: boolean;
  stale?: boolean;
  index?: string;
  wait?: string;
}

/** A KV entry as Consul returns it (Value already base64-decoded by the package). */
export interface KvEntry {
  readonly Key: string;
  readonly Value: string | null;
  readonly CreateIndex: number;
  readonly ModifyIndex: number;
  readonly LockIndex: number;
  readonly Flags: number;
  readonly Session?: string;
}

/** The subset of the `consul` package's API the adapter calls. */
export interface ConsulApi {
  kv: {
    get(o: CallOptions & { key: string; recurse?: boolean }): Promise<unknown>;
    set(o: CallOptions & { key: string; value: string; cas?: string; acquire?: string }): Promise<unknown>;
    del(o: CallOptions & { key: string; recurse?: boolean; cas?: string }): Promise<unknown>;
  };
  session: {
    create(o: CallOptions & { name: string; ttl: string; behavior: string; lockdelay: string; checks: string[] }): Promise<unknown>;
    renew(o: CallOptions & { id: string }): Promise<unknown>;
    destroy(o: CallOptions & { id: string }): Promise<unknown>;
  };
  agent: {
    service: {
      register(o: CallOptions & Record<string, unknown>): Promise<unknown>;
      deregister(o: CallOptions & { id: string }): Promise<unknown>;
    };
  };
  destroy(): void;
}

export interface ConsulConnection {
  readonly host: string;
  readonly port: number;
  readonly scheme: 'http' | 'https';
  readonly token?: string;
  readonly dc?: string;
  /** false: do not verify the server certificate (Patroni's `verify: false`). */
  readonly verify?: boolean;
  readonly cacert?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

export function createConsulClient(c: ConsulConnection): ConsulApi {
  const host = c.host.includes(':') && !c.host.startsWith('[') ? `[${c.host}]` : c.host;
  const agent = c.scheme === 'https'
    ? new HttpsAgent({
      keepAlive: true,
      rejectUnauthorized: c.verify !== false,
      ...(c.cacert ? { ca: c.cacert } : {}),
      ...(c.cert ? { cert: c.cert } : {}),
      ...(c.key ? { key: c.key } : {}),
    })
    : new HttpAgent({ keepAlive: true });
  const defaults = { ...(c.token ? { token: c.token } : {}), ...(c.dc ? { dc: c.dc } : {}) };
  // The package's typings omit `baseUrl` and per-call options; it accepts both (lib/consul.js).
  const opts = { baseUrl: `${c.scheme}://${host}:${c.port}/v1`, agent, defaults };
  return new Consul(opts as ConstructorParameters<typeof Consul>[0]) as unknown as ConsulApi;
}

/** A context that makes the package hand back the HTTP response too, and lets us abort. */
export function responseContext(): EventEmitter & { includeResponse: true } {
  return Object.assign(new EventEmitter(), { includeResponse: true as const });
}

/** Split the package's `[response, body]` answer (see responseContext). */
export function withResponse(r: unknown): { res: IncomingMessage; body: unknown } {
  const [res, body] = r as [IncomingMessage, unknown];
  return { res, body };
}

/** The X-Consul-Index of an answer, '0' when absent. */
export function consulIndex(res: IncomingMessage): string {
  const h = res.headers['x-consul-index'];
  const v = Array.isArray(h) ? h[0] : h;
  return v && /^\d+$/.test(v) ? v : '0';
}

/** Runs calls with one overall deadline each, mapping failures onto DcsError classes. */
export class ConsulCaller {
  closed = false;
  constructor(private readonly retryTimeoutMs: number) {}

  /**
   * Run `fn` until it succeeds, fails for good, or retry_timeout runs out. Each attempt gets the
   * time left as its own request timeout, so the whole call never outlives the deadline by more
   * than scheduling noise. Non-retryable answers (4xx, session gone) surface at once.
   */
  async run<T>(op: string, fn: (o: CallOptions) => Promise<T>, budgetMs = this.retryTimeoutMs): Promise<T> {
    if (this.closed) throw new DcsUnavailableError(`consul ${op}: adapter closed`);
    const deadline = performance.now() + budgetMs;
    let last: unknown = null;
    try {
      return await pRetry(async () => {
        const left = Math.floor(deadline - performance.now());
        if (left <= 20) {
          // Say why: the last failure is what an operator needs ("No cluster leader", refused, ...).
          const why = last === null ? 'no attempt finished' : describeFailure(last);
          throw new AbortError(new DcsUnavailableError(`consul ${op} failed within retry_timeout (${budgetMs} ms): ${why}`, { cause: last }));
        }
        try {
          return await fn({ timeout: left });
        } catch (e) {
          if (!isRetryable(e)) throw new AbortError(toDcsError(op, e));
          last = e;
          throw toDcsError(op, e);
        }
      }, { retries: 1000, minTimeout: 50, maxTimeout: 500, factor: 2, maxRetryTime: budgetMs });
    } catch (e) {
      throw toDcsError(op, e);
    }
  }
}
