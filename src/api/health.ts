/**
 * Health endpoints (shared/reference/rest-api.md §3.1): pure functions from HealthFacts and the
 * query string to 200 or 503. Load balancers poll these every second, so nothing here does I/O.
 *
 * One deliberate difference from Patroni: the primary checks (/, /primary, /master, /read-write,
 * /leader) need the leader key AND a running PostgreSQL that answers as a primary. Patroni answers
 * from the key alone, and kept HAProxy sending clients to a crashed primary for seconds
 * (shared/reference/anchors.md, "Observed weaknesses").
 */
import type { HealthFacts } from './backend.js';
import { RequestError } from './types.js';

export type HealthCheck =
  | 'primary' | 'leader' | 'standby-leader' | 'replica' | 'read-only' | 'synchronous' | 'asynchronous'
  | 'read-only-sync' | 'health' | 'liveness' | 'readiness';

/** Path -> check, with Patroni's aliases. */
export const HEALTH_PATHS: ReadonlyMap<string, HealthCheck> = new Map<string, HealthCheck>([
  ['/', 'primary'], ['/primary', 'primary'], ['/master', 'primary'], ['/read-write', 'primary'],
  ['/leader', 'leader'],
  ['/standby-leader', 'standby-leader'], ['/standby_leader', 'standby-leader'],
  ['/replica', 'replica'],
  ['/read-only', 'read-only'],
  ['/synchronous', 'synchronous'], ['/sync', 'synchronous'],
  ['/asynchronous', 'asynchronous'], ['/async', 'asynchronous'],
  ['/read-only-sync', 'read-only-sync'], ['/read-only-synchronous', 'read-only-sync'],
  ['/health', 'health'], ['/liveness', 'liveness'], ['/readiness', 'readiness'],
]);

/** Checks where ?tag_k=v filters do not apply (Patroni: leader/primary/standby-leader). */
const UNTAGGED: ReadonlySet<HealthCheck> = new Set(['primary', 'leader', 'standby-leader', 'health', 'liveness', 'readiness']);

const UNITS: Readonly<Record<string, number>> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3, tb: 1024 ** 4 };

/**
 * Parses a ?lag= value: a byte count, or a number with B, kB, MB, GB or TB (1024-based, unit case
 * ignored, optional space). Throws RequestError(400) naming the value otherwise.
 */
export function parseLag(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const factor = m ? (m[2] === '' ? 1 : UNITS[m[2]!.toLowerCase()]) : undefined;
  if (!m || factor === undefined) {
    throw new RequestError(400, `query parameter lag: expected bytes or a size with B, kB, MB, GB or TB, got ${JSON.stringify(text)}`);
  }
  return Math.floor(Number(m[1]) * factor);
}

/** Patroni compares non-string tag values as lower-case text ("true", "1"). */
function tagText(v: unknown): string {
  return typeof v === 'string' ? v : String(v).toLowerCase();
}

/** True when every ?tag_<key>=<value> matches this node's tags (a missing tag does not match). */
export function tagsMatch(query: URLSearchParams, tags: Readonly<Record<string, unknown>>): boolean {
  const seen = new Set<string>();
  for (const [k, v] of query) {
    if (!k.startsWith('tag_') || seen.has(k)) continue;
    seen.add(k); // repeated keys: the first value wins, as in Patroni
    const name = k.slice(4);
    if (!Object.prototype.hasOwnProperty.call(tags, name) || tagText(tags[name]) !== v) return false;
  }
  return true;
}

function lockOk(f: HealthFacts): boolean {
  // Paused with no valid DCS view: Patroni lets the PostgreSQL role speak for the lock, so that an
  // operator's maintenance window does not take the primary out of the load balancer.
  return f.holdsLock || (f.paused && !f.dcsViewValid);
}

function isPrimary(f: HealthFacts): boolean {
  return lockOk(f) && f.pgRunning && f.pgPrimary && !f.standbyCluster;
}

function isStandbyLeader(f: HealthFacts): boolean {
  return lockOk(f) && f.standbyCluster && f.pgRunning && !f.pgPrimary && (f.role === 'standby_leader' || f.role === 'replica');
}

/**
 * Patroni's "R": a running, load-balanced replica that is not lagging. With ?lag= and an unknown
 * lag the replica counts as lagging: we cannot show it is within the bound, and a balancer asking
 * for a bound wants fresh reads.
 */
function isServingReplica(f: HealthFacts, maxLagBytes: number | null): boolean {
  if (f.tags['noloadbalance'] === true || !f.pgRunning || f.pgPrimary || f.role !== 'replica') return false;
  if (maxLagBytes === null) return true;
  return f.lagBytes !== null && f.lagBytes <= maxLagBytes;
}

function inSync(f: HealthFacts, name: string): boolean {
  const lower = name.toLowerCase(); // Patroni matches /sync names case-insensitively
  return f.synchronousMode && f.syncStandbys.some((s) => s.toLowerCase() === lower);
}

/**
 * The status code of one health check.
 * @param name this member's name (for /sync membership)
 * @throws RequestError(400) for a malformed ?lag=
 */
export function healthStatus(check: HealthCheck, f: HealthFacts, query: URLSearchParams, name: string): 200 | 503 {
  const lagText = query.get('lag');
  const maxLag = lagText === null ? null : parseLag(lagText);
  const R = (): boolean => isServingReplica(f, maxLag);
  let ok: boolean;
  switch (check) {
    case 'primary': ok = isPrimary(f); break;
    case 'leader': ok = lockOk(f) && f.pgRunning && (f.pgPrimary || isStandbyLeader(f)); break;
    case 'standby-leader': ok = isStandbyLeader(f); break;
    case 'replica': ok = R(); break;
    case 'read-only': ok = isPrimary(f) || isStandbyLeader(f) || R(); break;
    case 'synchronous': ok = f.dcsViewValid && inSync(f, name) && R(); break;
    case 'asynchronous': ok = f.dcsViewValid && !inSync(f, name) && R(); break;
    case 'read-only-sync': ok = isPrimary(f) || isStandbyLeader(f) || (inSync(f, name) && R()); break;
    case 'health': ok = f.pgRunning; break;
    case 'liveness': {
      const limitMs = f.pgRunning && f.pgPrimary ? f.ttlMs : 2 * f.ttlMs;
      ok = f.paused || f.lastCycleAgoMs < limitMs;
      break;
    }
    case 'readiness': ok = f.holdsLock || (f.pgRunning && f.dcsViewValid); break;
  }
  if (ok && !UNTAGGED.has(check) && !tagsMatch(query, f.tags)) ok = false;
  return ok ? 200 : 503;
}
