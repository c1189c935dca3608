/**
 * Maps the `consul` client's failures (papi errors, Node socket errors) onto our DCS errors
 * (STYLE §5.4): one table, the original kept as `cause`. Anything not recognised counts as
 * "unavailable": for the HA loop an unknown failure must mean "I cannot tell", never "I still hold
 * the lock".
 */
import { DcsUnavailableError, LeaseExpiredError } from '../errors.js';

/** What the client library throws for a non-2xx answer (papi's ResponseError), narrowed. */
interface HttpFailure {
  readonly statusCode: number;
  readonly message: string;
  readonly response?: { readonly body?: unknown };
}

export function httpStatus(e: unknown): number | null {
  const s = (e as Partial<HttpFailure> | null)?.statusCode;
  return typeof s === 'number' ? s : null;
}

/** The answer's text: papi keeps short text/plain bodies as the message, else the body itself. */
export function httpText(e: unknown): string {
  const body = (e as Partial<HttpFailure> | null)?.response?.body;
  const fromBody = typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString('utf8') : '';
  // papi prefixes "consul: kv.get: "; our messages name the operation themselves.
  const msg = (e instanceof Error ? e.message : String(e)).replace(/^consul: [\w.]+: /, '');
  return msg.includes(fromBody) ? msg : `${msg} ${fromBody}`.trim();
}

/** One line for a log: "HTTP 500 No cluster leader", "connect ECONNREFUSED 127.0.0.1:8500". */
export function describeFailure(e: unknown): string {
  if (e instanceof DcsUnavailableError || e instanceof LeaseExpiredError) return e.message;
  const s = httpStatus(e);
  // One line, no request details: a token travels as a header and must never reach a log line.
  const text = httpText(e).split('\n')[0]!.slice(0, 200);
  return s === null ? text : `HTTP ${s} ${text}`;
}

/**
 * Consul answers that mean the session we used no longer exists: a KV acquire with a destroyed
 * session fails with 500 `invalid session "<id>"` (the text Patroni's client matches too), and a
 * renew of an unknown session is a 404.
 */
export function isSessionGone(e: unknown): boolean {
  if (e instanceof LeaseExpiredError) return true;
  return httpStatus(e) === 500 && /invalid session/i.test(httpText(e));
}

/** The session TTL was refused (outside the server's [session_ttl_min, 24h] range). */
export function isInvalidTtl(e: unknown): boolean {
  return httpStatus(e) === 500 && /invalid session ttl/i.test(httpText(e));
}

/**
 * Worth another attempt within retry_timeout: no answer at all (refused, reset, timeout), any 5xx
 * ("No cluster leader", "rpc error", ...) other than the session answers above, and 429 (rate
 * limited). A 4xx is the same answer next time (bad request, ACL denied).
 */
export function isRetryable(e: unknown): boolean {
  if (isSessionGone(e) || isInvalidTtl(e)) return false;
  const s = httpStatus(e);
  return s === null || s >= 500 || s === 429;
}

export function toDcsError(op: string, e: unknown): Error {
  if (e instanceof DcsUnavailableError || e instanceof LeaseExpiredError) return e;
  if (isSessionGone(e)) return new LeaseExpiredError(`consul ${op}: our session no longer exists`, { cause: e });
  return new DcsUnavailableError(`consul ${op} failed: ${describeFailure(e)}`, { cause: e });
}
