/**
 * The etcd v3 adapter (shared/reference/dcs-layout.md §1.4), over the npm `etcd3` client's raw KV and
 * Lease RPCs so that every request carries our own deadline.
 *
 * Invariants:
 * - One lease of ttl seconds per member; the leader key and members/<name> are bound to it.
 * - The leader key is only ever created by a transaction requiring it not to exist, and only ever
 *   refreshed or deleted by a transaction requiring its value to be our name. We never re-create
 *   a vanished leader key in updateLeader(): losing it means losing leadership.
 * - `leaseConfirmedAt` is the monotonic send time of the last keep-alive (or grant) that the server
 *   confirmed, so confirmedAt + ttl is a lower bound on the lease's life at the server.
 * - Every call finishes within retryTimeoutMs: success, a CAS value, or DcsUnavailableError.
 * - With a keeper thread, the main thread skips its own keep-alive while the keeper's last confirmed
 *   renewal is fresh (keeperFresh()): one round trip less per HA cycle. A lease the keeper can no
 *   longer renew (gone at the server) stops being fresh, and the next cycle's own keep-alive finds
 *   out and replaces it, as before.
 */
import { performance } from 'node:perf_hooks';
import type { IKeyValue, IRequestOp, ICompare, ITxnResponse } from 'etcd3';
import { Etcd3 } from 'etcd3';
import type { CallOptions } from '@grpc/grpc-js';
import pRetry, { AbortError } from 'p-retry';
import { DcsUnavailableError, LeaseExpiredError } from '../errors.js';
import { ClusterKeys } from '../keys.js';
import { buildClusterView, serializeSync, type RawNode } from '../parse.js';
import type { Dcs, DcsOptions } from '../port.js';
import type {
  CasResult, ClusterStatus, ClusterView, DynamicConfigJson, Expect, FailoverRequest, HistoryLine,
  MemberData, SyncState,
} from '../types.js';
import { isLeaseGone, toDcsError } from './errors.js';
import { LeaseKeeper } from './keeper.js';
import { PrefixWatch } from './watch.js';

export interface Etcd3Options extends DcsOptions {
  /** "host:port" entries. */
  readonly hosts: readonly string[];
  readonly protocol?: 'http' | 'https';
  readonly username?: string;
  readonly password?: string;
  readonly cacert?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  /**
   * Renew the lease from a worker thread every this many ms (0/absent: no keeper thread; renewals
   * then happen only on updateLeader/touchMember). The agent sets it; tests of the contract do not.
   */
  readonly keeperIntervalMs?: number;
  /** Called when a value under the prefix could not be parsed. */
  readonly onDataWarning?: (key: string, problem: string) => void;
}

const enc = (s: string): Buffer => Buffer.from(s, 'utf8');

/** etcd's prefix range end: the prefix with its last byte incremented. */
export function prefixEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix, 'utf8');
  const end = Buffer.from(b);
  for (let i = end.length - 1; i >= 0; i--) {
    if (end[i]! < 0xff) { end[i] = end[i]! + 1; return end.subarray(0, i + 1); }
  }
  return Buffer.from([0]);
}

export function createEtcdClient(o: Etcd3Options): Etcd3 {
  const scheme = o.protocol ?? (o.cacert ? 'https' : 'http');
  return new Etcd3({
    hosts: o.hosts.map((h) => (h.includes('://') ? h : `${scheme}://${h}`)),
    ...(o.username && o.password ? { auth: { username: o.username, password: o.password } } : {}),
    ...(o.cacert ? { credentials: { rootCertificate: o.cacert, ...(o.key ? { privateKey: o.key } : {}), ...(o.cert ? { certChain: o.cert } : {}) } } : {}),
    dialTimeout: Math.max(500, Math.min(3000, o.retryTimeoutMs / 2)),
    // We retry ourselves within retry_timeout; the client's circuit breaker would otherwise keep a
    // restarted etcd "open" for seconds, and its retries ignore our deadline.
    faultHandling: { host: () => noopPolicy, global: noopPolicy },
    grpcOptions: {
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
    },
  });
}

// cockatiel's `noop` policy, without importing cockatiel directly (it is etcd3's dependency). It must
// be async: the client's markFailed() passes a function that throws synchronously and only catches
// a rejected promise.
const noopPolicy = { execute: async <T>(fn: (ctx: { signal: AbortSignal; attempt: number }) => T | Promise<T>) => fn({ signal: new AbortController().signal, attempt: 0 }) } as never;

export class Etcd3Dcs implements Dcs {
  readonly name = 'etcd3';
  readonly member: string;
  private readonly keys: ClusterKeys;
  private readonly client: Etcd3;
  private leaseId: string | null = null;
  private confirmedAt: number | null = null;
  private readonly watcher: PrefixWatch;
  private lastMember: string | null = null;
  private closed = false;
  private readonly keeper: LeaseKeeper | null;
  /** The /status body last written by this adapter while leader (Patroni writes it only on change). */
  private lastStatus: string | null = null;

  constructor(private readonly o: Etcd3Options, client?: Etcd3) {
    this.member = o.member;
    this.keys = ClusterKeys.of(o.namespace, o.scope);
    this.client = client ?? createEtcdClient(o);
    this.watcher = new PrefixWatch(this.client, this.keys);
    // The keeper stops renewing once the agent's event loop has been silent for 3/4 of a ttl: it
    // bridges GC pauses and slow synchronous work, but does not keep a hung agent's lock alive.
    this.keeper = o.keeperIntervalMs ? new LeaseKeeper(o, o.keeperIntervalMs, o.ttlSeconds * 750) : null;
  }

  private setLease(id: string | null): void {
    this.leaseId = id;
    this.keeper?.setLease(id);
  }

  /** Run `fn` with retries until it succeeds or retry_timeout runs out. */
  private async call<T>(op: string, fn: (opts: CallOptions) => Promise<T>): Promise<T> {
    if (this.closed) throw new DcsUnavailableError(`etcd ${op}: adapter closed`);
    const deadline = performance.now() + this.o.retryTimeoutMs;
    try {
      return await pRetry(async () => {
        const left = deadline - performance.now();
        if (left <= 20) throw new AbortError(new DcsUnavailableError(`etcd ${op}: retry_timeout exceeded`));
        try {
          return await fn({ deadline: new Date(Date.now() + left) });
        } catch (e) {
          if (isLeaseGone(e)) throw new AbortError(toDcsError(op, e));
          throw toDcsError(op, e);
        }
      }, { retries: 1000, minTimeout: 50, maxTimeout: 500, factor: 2, maxRetryTime: this.o.retryTimeoutMs });
    } catch (e) {
      throw toDcsError(op, e);
    }
  }

  private async txn(op: string, compare: ICompare[], success: IRequestOp[], failure: IRequestOp[] = []): Promise<ITxnResponse> {
    return this.call(op, (opts) => this.client.kv.txn({ compare, success, failure }, opts));
  }

  // --- lease ---

  private async grant(): Promise<string> {
    const sent = performance.now();
    const res = await this.call('lease grant', (opts) => this.client.leaseClient.leaseGrant({ TTL: this.o.ttlSeconds }, opts));
    this.setLease(res.ID);
    this.confirmedAt = sent;
    return res.ID;
  }

  private async ensureLease(): Promise<string> {
    return this.leaseId ?? this.grant();
  }

  /** One keep-alive round trip. Resolves false when the server says the lease is gone. */
  async keepalive(): Promise<boolean> {
    const id = this.leaseId;
    if (!id) return false;
    const sent = performance.now();
    const ttl = await this.call('lease keepalive', async (opts) => {
      const stream = await this.client.leaseClient.leaseKeepAlive(opts);
      try {
        return await new Promise<number>((resolve, reject) => {
          stream.on('data', (r) => resolve(Number(r.TTL)));
          stream.on('error', reject);
          stream.on('end', () => reject(new Error('keepalive stream ended')));
          stream.write({ ID: id });
        });
      } finally {
        stream.end();
      }
    });
    if (ttl <= 0) {
      if (this.leaseId === id) this.setLease(null);
      return false;
    }
    this.confirmedAt = Math.max(this.confirmedAt ?? 0, sent);
    return true;
  }

  /**
   * The keeper confirmed a renewal of the current lease recently enough that a keep-alive of our
   * own would add nothing: within two keeper rounds, and never more than ttl/2 ago.
   */
  private keeperFresh(): boolean {
    const at = this.leaseId ? this.keeper?.confirmedAt() ?? null : null;
    if (at === null || !this.o.keeperIntervalMs) return false;
    return performance.now() - at < Math.min(2 * this.o.keeperIntervalMs, this.o.ttlSeconds * 500);
  }

  leaseConfirmedAt(): number | null {
    if (!this.leaseId) return null;
    const fromKeeper = this.keeper?.confirmedAt() ?? null;
    return Math.max(this.confirmedAt ?? 0, fromKeeper ?? 0) || null;
  }

  /** The current lease id (tests, diagnostics). */
  currentLease(): string | null {
    return this.leaseId;
  }

  // --- reads ---

  async getCluster(): Promise<ClusterView> {
    const res = await this.call('get cluster', (opts) =>
      this.client.kv.range({ key: enc(this.keys.prefix), range_end: prefixEnd(this.keys.prefix) }, opts));
    const nodes: RawNode[] = [];
    for (const kv of res.kvs as IKeyValue[]) {
      const rel = this.keys.relative(kv.key.toString('utf8'));
      if (rel === null) continue;
      nodes.push({ key: rel, value: kv.value.toString('utf8'), version: String(kv.mod_revision), lease: kv.lease && kv.lease !== '0' ? String(kv.lease) : null });
    }
    return buildClusterView(nodes, String(res.header.revision), this.o.onDataWarning);
  }

  // --- leader key ---

  async attemptToAcquireLeader(): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const lease = await this.ensureLease();
      const key = enc(this.keys.leader);
      try {
        const res = await this.txn('acquire leader',
          [{ key, target: 'Create', result: 'Equal', create_revision: 0 }],
          [{ request_put: { key, value: enc(this.member), lease } }],
          [{ request_range: { key } }]);
        if (res.succeeded) { this.lastStatus = null; return true; }
        // A retried request may have been applied before its response was lost: the key may be ours.
        const kv = res.responses[0]?.response_range?.kvs?.[0];
        const ours = !!kv && kv.value.toString('utf8') === this.member && String(kv.lease) === lease;
        if (ours) this.lastStatus = null;
        return ours;
      } catch (e) {
        if (e instanceof LeaseExpiredError) { this.setLease(null); continue; }
        throw e;
      }
    }
    throw new DcsUnavailableError('etcd acquire leader: could not obtain a lease');
  }

  async updateLeader(): Promise<boolean> {
    // The compare on the key's lease below still fails if the lease is gone, whoever renewed it.
    const renewed = this.keeperFresh() || await this.keepalive().catch((e) => { if (e instanceof LeaseExpiredError) return false; throw e; });
    if (!renewed) {
      // Our lease is gone, and with it any key bound to it. Take a fresh lease for later use, but the
      // leader key is lost: never re-create it here.
      this.setLease(null);
      await this.grant();
    }
    const lease = this.leaseId!;
    const key = enc(this.keys.leader);
    const name = enc(this.member);
    const res = await this.txn('update leader',
      [{ key, target: 'Value', result: 'Equal', value: name }, { key, target: 'Lease', result: 'Equal', lease }],
      [],
      [{ request_txn: { compare: [{ key, target: 'Value', result: 'Equal', value: name }], success: [{ request_put: { key, value: name, lease } }], failure: [] } }]);
    if (res.succeeded) return true;
    return res.responses[0]?.response_txn?.succeeded === true;
  }

  async deleteLeader(): Promise<boolean> {
    this.lastStatus = null;
    const key = enc(this.keys.leader);
    const res = await this.txn('delete leader', [{ key, target: 'Value', result: 'Equal', value: enc(this.member) }], [{ request_delete_range: { key } }]);
    return res.succeeded;
  }

  async touchMember(data: MemberData): Promise<void> {
    const body = JSON.stringify(data);
    for (let attempt = 0; attempt < 2; attempt++) {
      const lease = await this.ensureLease();
      const tag = `${lease}|${body}`;
      try {
        if (tag === this.lastMember) {
          // Unchanged record: no write, but the lease it is bound to must still be kept alive.
          if (this.keeperFresh() || await this.keepalive()) return;
          this.setLease(null);
          continue;
        }
        await this.call('touch member', (opts) => this.client.kv.put({ key: enc(this.keys.member(this.member)), value: enc(body), lease }, opts));
        this.lastMember = tag;
        return;
      } catch (e) {
        if (e instanceof LeaseExpiredError) { this.setLease(null); continue; }
        throw e;
      }
    }
  }

  // --- compare-and-set records ---

  private async cas(op: string, keyStr: string, value: string | null, expect: Expect): Promise<CasResult> {
    const key = enc(keyStr);
    const compare: ICompare[] = expect === undefined ? []
      : expect === null ? [{ key, target: 'Create', result: 'Equal', create_revision: 0 }]
      : [{ key, target: 'Mod', result: 'Equal', mod_revision: expect }];
    const success: IRequestOp[] = value === null ? [{ request_delete_range: { key } }] : [{ request_put: { key, value: enc(value) } }];
    const res = await this.txn(op, compare, success);
    if (res.succeeded) return { ok: true, version: String(res.header.revision) };
    return { ok: false, reason: expect === null ? 'exists' : 'version-mismatch' };
  }

  initialize(sysid: string, createNew: boolean): Promise<CasResult> {
    return this.cas('initialize', this.keys.initialize, sysid, createNew ? null : undefined);
  }
  async cancelInitialization(): Promise<void> {
    await this.cas('cancel initialize', this.keys.initialize, null, undefined);
  }
  setConfig(value: DynamicConfigJson, expect: Expect): Promise<CasResult> {
    return this.cas('set config', this.keys.config, JSON.stringify(value), expect);
  }
  setFailover(value: FailoverRequest, expect: Expect): Promise<CasResult> {
    return this.cas('set failover', this.keys.failover, JSON.stringify(value), expect);
  }
  setSync(value: SyncState, expect: Expect): Promise<CasResult> {
    return this.cas('set sync', this.keys.sync, serializeSync(value), expect);
  }
  deleteSync(expect: Expect): Promise<CasResult> {
    return this.cas('delete sync', this.keys.sync, null, expect);
  }
  setHistory(value: readonly HistoryLine[], expect: Expect): Promise<CasResult> {
    return this.cas('set history', this.keys.history, JSON.stringify(value), expect);
  }
  async setStatus(value: ClusterStatus): Promise<void> {
    // Written only when the content changes (as Patroni does); forgotten when we (re)take the
    // leader key, since another leader may have written it meanwhile.
    const body = JSON.stringify(value);
    if (body === this.lastStatus) return;
    await this.cas('set status', this.keys.status, body, undefined);
    this.lastStatus = body;
  }
  async setFailsafe(value: Readonly<Record<string, string>> | null): Promise<void> {
    await this.cas('set failsafe', this.keys.failsafe, value === null ? null : JSON.stringify(value), undefined);
  }
  async deleteCluster(): Promise<void> {
    await this.call('delete cluster', (opts) =>
      this.client.kv.deleteRange({ key: enc(this.keys.prefix), range_end: prefixEnd(this.keys.prefix) }, opts));
  }

  watch(sinceRevision: string, timeoutMs: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return this.watcher.wait(sinceRevision, timeoutMs);
  }

  async close(opts: { revoke?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    if (opts.revoke && this.leaseId) {
      const id = this.leaseId;
      await this.client.leaseClient.leaseRevoke({ ID: id }, { deadline: new Date(Date.now() + Math.min(2000, this.o.retryTimeoutMs)) }).catch(() => undefined);
    }
    this.closed = true;
    this.setLease(null);
    await this.keeper?.close();
    this.watcher.close();
    this.client.close();
  }
}
