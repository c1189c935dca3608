/**
 * The in-memory state of the FAKE Consul (fake-consul.ts serves it over HTTP). It models one Consul
 * datacenter with one server and one node, "fake-node", that has one passing check, "serfHealth".
 * Every write takes the next value of one monotonically increasing index, as a Raft index does.
 *
 * Each rule below cites the Consul documentation it follows (developer.hashicorp.com/consul:
 * api-docs/kv, api-docs/session, api-docs/features/blocking, docs "Sessions and Distributed Locks").
 * Where the docs are silent we say so and what we chose.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';

export interface FakeEntry {
  key: string;
  value: Buffer;
  flags: string;
  createIndex: number;
  modifyIndex: number;
  lockIndex: number;
  session: string | null;
}

export interface FakeSession {
  readonly id: string;
  readonly name: string;
  readonly node: string;
  readonly checks: readonly string[];
  readonly behavior: 'release' | 'delete';
  readonly ttl: string;
  readonly ttlMs: number | null;
  readonly lockDelayMs: number;
  readonly createIndex: number;
  timer: NodeJS.Timeout | null;
}

/** A Consul-style failure answer: HTTP status and plain-text body. */
export class FakeConsulError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

export const FAKE_NODE = 'fake-node';
const NODE_CHECKS = new Set(['serfHealth']);

/** Go duration text ("15s", "1.5s", "250ms", "1m") -> ms; null if unparsable. */
export function parseDuration(text: string): number | null {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let rest = text.trim();
  if (rest === '0') return 0;
  let total = 0;
  if (!rest) return null;
  while (rest) {
    const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/.exec(rest);
    if (!m) return null;
    total += Number(m[1]) * units[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return total;
}

interface Waiter { readonly prefix: string; readonly recurse: boolean; readonly wake: () => void }

export class FakeConsulState {
  index = 1;
  readonly kv = new Map<string, FakeEntry>();
  /** Deleted keys -> the index of their deletion (Consul keeps such tombstones for blocking queries). */
  readonly tombstones = new Map<string, number>();
  /** Keys -> monotonic time until which an acquire is refused (lock-delay). */
  readonly lockDelays = new Map<string, number>();
  readonly sessions = new Map<string, FakeSession>();
  private readonly waiters = new Set<Waiter>();
  private timersRunning = true;

  /** @param sessionTtlMinMs the server's session_ttl_min (Consul: 10s unless configured lower). */
  constructor(readonly sessionTtlMinMs = 10_000) {}

  private next(): number { return ++this.index; }

  // --- blocking queries (api-docs/features/blocking) ---

  /**
   * The X-Consul-Index of a KV read. Docs (api-docs/kv, ModifyIndex): with ?recurse it "corresponds
   * to the latest ModifyIndex within the prefix"; deletions count through tombstones. A prefix or
   * key with no history answers the store's current index (docs are silent; Consul's state store
   * falls back to its table index, and it must be > 0 per the blocking docs' sanity rule).
   */
  kvIndex(key: string, recurse: boolean): number {
    let idx = 0;
    const match = (k: string) => (recurse ? k.startsWith(key) : k === key);
    for (const e of this.kv.values()) if (match(e.key) && e.modifyIndex > idx) idx = e.modifyIndex;
    for (const [k, i] of this.tombstones) if (match(k) && i > idx) idx = i;
    return idx || this.index;
  }

  /** Resolve when something under `prefix` changes (the caller re-checks the index). */
  onChange(prefix: string, recurse: boolean, wake: () => void): () => void {
    const w: Waiter = { prefix, recurse, wake };
    this.waiters.add(w);
    return () => this.waiters.delete(w);
  }

  private changed(key: string): void {
    for (const w of [...this.waiters]) {
      if (w.recurse ? key.startsWith(w.prefix) : key === w.prefix) { this.waiters.delete(w); w.wake(); }
    }
  }

  // --- KV (api-docs/kv) ---

  read(key: string, recurse: boolean): FakeEntry[] {
    if (!recurse) { const e = this.kv.get(key); return e ? [e] : []; }
    return [...this.kv.values()].filter((e) => e.key.startsWith(key)).sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  private write(key: string, value: Buffer, flags: string | undefined, session: string | null | undefined, lockInc: boolean): void {
    const idx = this.next();
    const old = this.kv.get(key);
    this.kv.set(key, {
      key, value, flags: flags ?? old?.flags ?? '0',
      createIndex: old?.createIndex ?? idx,
      modifyIndex: idx,
      lockIndex: (old?.lockIndex ?? 0) + (lockInc ? 1 : 0),
      // Docs: "an update that does not include the acquire parameter will proceed normally even if
      // another session has locked the key": a plain PUT keeps the lock holder.
      session: session === undefined ? (old?.session ?? null) : session,
    });
    this.tombstones.delete(key);
    this.changed(key);
  }

  /** PUT /v1/kv/<key>; resolves Consul's true/false answer. */
  put(key: string, value: Buffer, q: { cas?: string; acquire?: string; release?: string; flags?: string }): boolean {
    if (q.acquire !== undefined && q.release !== undefined) throw new FakeConsulError(400, 'Conflicting flags: acquire and release');
    // Docs are silent on cas together with acquire; this fake refuses the combination rather than guess.
    if (q.cas !== undefined && (q.acquire !== undefined || q.release !== undefined)) throw new FakeConsulError(400, 'fake consul: cas with acquire/release is not modelled');
    const old = this.kv.get(key);
    if (q.acquire !== undefined) return this.acquire(key, value, q.acquire, q.flags);
    if (q.release !== undefined) {
      // Docs: release "will leave the LockIndex unmodified but will clear the associated Session of
      // the key. The key must be held by this session to be unlocked."
      if (!old || old.session !== q.release) return false;
      this.write(key, value, q.flags, null, false);
      return true;
    }
    if (q.cas !== undefined) {
      // Docs: "If the index is 0, Consul will only put the key if it does not already exist. If the
      // index is non-zero, the key is only set if the index matches the ModifyIndex of that key."
      const cas = Number(q.cas);
      if (!Number.isInteger(cas) || cas < 0) throw new FakeConsulError(400, `Invalid CAS index: ${q.cas}`);
      if (cas === 0 ? old !== undefined : old?.modifyIndex !== cas) return false;
    }
    this.write(key, value, q.flags, undefined, false);
    return true;
  }

  private acquire(key: string, value: Buffer, sessionId: string, flags: string | undefined): boolean {
    // Docs: acquisition needs "the session is valid". Consul answers an unknown one with HTTP 500
    // `invalid session "<id>"` (not in the docs; it is what Patroni's client matches).
    if (!this.sessions.has(sessionId)) throw new FakeConsulError(500, `invalid session "${sessionId}"`);
    // Sessions doc: after an invalidation "Consul prevents any of the previously held locks from
    // being re-acquired for the lock-delay interval". Consul answers such an acquire with false.
    const until = this.lockDelays.get(key);
    if (until !== undefined && performance.now() < until) return false;
    const old = this.kv.get(key);
    // Docs: an acquire "can only succeed if there is no existing lock holder"; the holder itself may
    // re-acquire: "the LockIndex is not incremented but the key contents are updated".
    if (old?.session && old.session !== sessionId) return false;
    this.write(key, value, flags, sessionId, old?.session !== sessionId);
    return true;
  }

  /** DELETE /v1/kv/<key>. */
  delete(key: string, q: { recurse?: boolean; cas?: string }): boolean {
    if (q.cas !== undefined) {
      // Docs: "Unlike PUT, the index must be greater than 0 for Consul to take any action: a 0 index
      // will not delete the key. If the index is non-zero, the key is only deleted if the index
      // matches the ModifyIndex of that key." An absent key matches nothing: false (docs silent).
      const old = this.kv.get(key);
      if (Number(q.cas) <= 0 || !old || old.modifyIndex !== Number(q.cas)) return false;
    }
    const victims = q.recurse ? this.read(key, true).map((e) => e.key) : this.kv.has(key) ? [key] : [];
    if (victims.length === 0) return true; // deleting nothing succeeds (idempotent)
    this.remove(victims, this.next());
    return true;
  }

  private remove(keys: readonly string[], idx: number): void {
    for (const k of keys) { this.kv.delete(k); this.tombstones.set(k, idx); }
    for (const k of keys) this.changed(k);
  }

  // --- sessions (api-docs/session, docs "Sessions and Distributed Locks") ---

  /** PUT /v1/session/create; the request body is Consul's JSON schema (field names as documented). */
  createSession(body: Record<string, unknown>): string {
    const node = typeof body.Node === 'string' && body.Node ? body.Node : FAKE_NODE;
    if (node !== FAKE_NODE) throw new FakeConsulError(500, `Missing node registration: ${node}`);
    // Docs: Checks/NodeChecks default to the node's serfHealth; each must be a registered check.
    const checks = (Array.isArray(body.NodeChecks) ? body.NodeChecks : Array.isArray(body.Checks) ? body.Checks : ['serfHealth']) as unknown[];
    for (const c of checks) if (typeof c !== 'string' || !NODE_CHECKS.has(c)) throw new FakeConsulError(500, `Missing check '${String(c)}' registration`);
    const behavior = body.Behavior === undefined || body.Behavior === '' ? 'release' : body.Behavior;
    if (behavior !== 'release' && behavior !== 'delete') throw new FakeConsulError(400, `Invalid Behavior setting '${String(behavior)}'`);
    // Docs: LockDelay defaults to "15s"; the sessions doc allows 0 to 60 s, zero disabling it.
    const lockDelayMs = body.LockDelay === undefined ? 15_000 : typeof body.LockDelay === 'number' ? body.LockDelay / 1e6 : parseDuration(String(body.LockDelay));
    if (lockDelayMs === null || lockDelayMs < 0 || lockDelayMs > 60_000) throw new FakeConsulError(400, `Invalid LockDelay: ${String(body.LockDelay)}`);
    const ttl = typeof body.TTL === 'string' ? body.TTL : '';
    const ttlMs = ttl ? parseDuration(ttl) : null;
    // Docs: TTL must be "between 10s and 86400s" (10s being the server's default session_ttl_min).
    if (ttl && (ttlMs === null || ttlMs < this.sessionTtlMinMs || ttlMs > 86_400_000)) {
      throw new FakeConsulError(500, `Invalid Session TTL '${ttl}', must be between [${this.sessionTtlMinMs / 1000}s=24h0m0s]`);
    }
    const s: FakeSession = {
      id: randomUUID(), name: typeof body.Name === 'string' ? body.Name : '', node, checks: checks as string[],
      behavior, ttl, ttlMs, lockDelayMs, createIndex: this.next(), timer: null,
    };
    this.sessions.set(s.id, s);
    this.armTimer(s);
    return s.id;
  }

  /**
   * The TTL timer. Docs: the TTL is "a lower bound for invalidation" and sessions "may not be
   * reaped for up to double this TTL". This fake invalidates at exactly 2 x TTL after the last
   * renewal, which is what Consul's implementation does (it multiplies the TTL by two), so a test
   * sees the latest expiry a real server would allow.
   */
  private armTimer(s: FakeSession): void {
    if (s.timer) clearTimeout(s.timer);
    s.timer = null;
    if (s.ttlMs === null || !this.timersRunning) return;
    s.timer = setTimeout(() => this.invalidate(s.id), 2 * s.ttlMs);
    s.timer.unref();
  }

  /** PUT /v1/session/renew/<id>: null when unknown (HTTP 404), else the session. */
  renewSession(id: string): FakeSession | null {
    const s = this.sessions.get(id);
    if (!s) return null;
    this.armTimer(s); // docs: renew "extends the expiration by the TTL"
    return s;
  }

  /**
   * Invalidate a session (TTL expiry or destroy). Docs: with behavior "release" held locks are
   * released and "the ModifyIndex of the key is incremented"; with "delete" "the key corresponding
   * to any of the held locks is simply deleted"; either way the keys stay un-acquirable for the
   * session's lock-delay.
   */
  invalidate(id: string): void {
    const s = this.sessions.get(id);
    if (!s) return;
    if (s.timer) clearTimeout(s.timer);
    this.sessions.delete(id);
    const idx = this.next();
    const held = [...this.kv.values()].filter((e) => e.session === id).map((e) => e.key);
    if (s.lockDelayMs > 0) for (const k of held) this.lockDelays.set(k, performance.now() + s.lockDelayMs);
    if (s.behavior === 'delete') { this.remove(held, idx); return; }
    for (const k of held) {
      const e = this.kv.get(k)!;
      e.session = null;
      e.modifyIndex = idx;
      this.changed(k);
    }
  }

  /**
   * Stop (server down, no leader) or restart the TTL timers. Sessions doc: "The TTL is renewed on
   * session creation, on session renew, and on leader failover": a server coming back restarts
   * every countdown from its full length, and nothing expires while no server leads.
   */
  setTimersRunning(on: boolean): void {
    this.timersRunning = on;
    for (const s of this.sessions.values()) {
      if (on) this.armTimer(s);
      else if (s.timer) { clearTimeout(s.timer); s.timer = null; }
    }
  }

  sessionJson(s: FakeSession): Record<string, unknown> {
    return {
      ID: s.id, Name: s.name, Node: s.node, LockDelay: s.lockDelayMs * 1e6, Behavior: s.behavior, TTL: s.ttl,
      NodeChecks: s.checks, ServiceChecks: null, CreateIndex: s.createIndex, ModifyIndex: s.createIndex,
    };
  }

  entryJson(e: FakeEntry): Record<string, unknown> {
    return {
      Key: e.key, Flags: Number(e.flags), Value: e.value.length ? e.value.toString('base64') : null,
      CreateIndex: e.createIndex, ModifyIndex: e.modifyIndex, LockIndex: e.lockIndex,
      ...(e.session ? { Session: e.session } : {}),
    };
  }

  close(): void {
    this.setTimersRunning(false);
    for (const w of [...this.waiters]) w.wake();
    this.waiters.clear();
  }
}
