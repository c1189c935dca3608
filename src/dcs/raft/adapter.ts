/**
 * The DCS adapter over the built-in Raft store (QLUSTER mode): the same semantics as the etcd
 * adapter (lease-bound leader and member keys, CAS on mod revisions, a filtered prefix watch),
 * over any KvClientOps -- the local RaftNode each agent embeds.
 *
 * Every call finishes within retryTimeoutMs (the node rejects when no leader or quorum answers);
 * every rejection becomes DcsUnavailableError. The leader key's mod revision doubles as a fencing
 * token (Leader.version). On a node removed from the Raft cluster every call fails with
 * DcsUnavailableError("this node was removed from the Raft cluster ..."), so the HA loop demotes
 * as for any DCS outage.
 */
import { performance } from 'node:perf_hooks';
import type { Compare, KvClientOps, TxnOp, TxnRequest, TxnResult } from '../../raft/kv/index.js';
import { RaftRemovedError, type RaftNode } from '../../raft/node.js';
import { DcsUnavailableError } from '../errors.js';
import * as K from '../keys.js';
import { ClusterKeys } from '../keys.js';
import { buildClusterView, serializeSync, type RawNode } from '../parse.js';
import type { Dcs, DcsOptions, GetClusterOptions } from '../port.js';
import type {
  CasResult, ClusterStatus, ClusterView, DynamicConfigJson, Expect, FailoverRequest, HistoryLine, MemberData, SyncState,
} from '../types.js';

const WAKE_KEYS = new Set([K.LEADER, K.CONFIG, K.FAILOVER, K.SYNC, K.INITIALIZE, K.HISTORY]);

/**
 * A keep-alive whose answer came less than this long ago is not repeated: the primary's cycle
 * renews its one lease for the leader key and again for its member key, a few milliseconds apart.
 * Skipping the second keeps the older confirmation time, so the local deadline only gets earlier.
 * The window counts from the answer, not the request: an idle cycle's lazy read is answered up to
 * a heartbeat interval after it was sent (1.5 s at ttl 30), and its renewal is still this cycle's.
 */
const KEEPALIVE_REUSE_MS = 1000;

export interface RaftDcsOptions extends DcsOptions {
  readonly onDataWarning?: (key: string, problem: string) => void;
  /** Called by close() (e.g. to stop the embedded node); the adapter does not own the node otherwise. */
  readonly onClose?: () => Promise<void>;
  /** The embedded node, for GET /raft and membership jobs; absent when talking to a remote one. */
  readonly node?: RaftNode;
}

export class RaftDcs implements Dcs {
  readonly name = 'raft';
  readonly member: string;
  private readonly keys: ClusterKeys;
  private leaseId = 0;
  /** When the lease's last confirmed renewal was asked (the local deadline counts from here). */
  private confirmedAt: number | null = null;
  /** When that confirmation arrived (the reuse window counts from here); set together with confirmedAt. */
  private answeredAt: number | null = null;
  private lastMember: string | null = null;
  /**
   * What the HA loop's last renewing read showed of the leader key: ours (this member's name on
   * this lease) at the moment the renewal was confirmed. updateLeader uses it once, within
   * KEEPALIVE_REUSE_MS, instead of asking again (Patroni's etcd3 refresh likewise trusts the view).
   */
  private readLeader: { readonly confirmedAt: number; readonly lease: number } | null = null;
  private closed = false;

  constructor(private readonly kv: KvClientOps, private readonly o: RaftDcsOptions) {
    this.member = o.member;
    this.keys = ClusterKeys.of(o.namespace, o.scope);
  }

  private async call<T>(op: string, fn: () => Promise<T>): Promise<T> {
    if (this.closed) throw new DcsUnavailableError(`raft ${op}: adapter closed`);
    try {
      return await fn();
    } catch (e) {
      if (e instanceof RaftRemovedError) throw new DcsUnavailableError(e.message, { cause: e });
      throw new DcsUnavailableError(`raft ${op} failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  private async txn(op: string, req: TxnRequest): Promise<TxnResult | null> {
    const r = await this.call(op, () => this.kv.txn(req));
    if (r.kind === 'error') {
      if (r.code === 'lease-not-found') { this.leaseId = 0; return null; }
      throw new DcsUnavailableError(`raft ${op}: ${r.message}`);
    }
    return r;
  }

  // --- lease ---

  private async ensureLease(): Promise<number> {
    if (this.leaseId) return this.leaseId;
    const sent = performance.now();
    const r = await this.call('lease grant', () => this.kv.leaseGrant(this.o.ttlSeconds * 1000));
    if (r.kind === 'error') throw new DcsUnavailableError(`raft lease grant: ${r.message}`);
    this.leaseId = r.id;
    this.confirmedAt = sent;
    this.answeredAt = performance.now();
    return r.id;
  }

  private async keepalive(): Promise<boolean> {
    if (!this.leaseId) return false;
    const id = this.leaseId;
    const sent = performance.now();
    if (this.confirmedRecently(sent)) return true;
    const r = await this.call('lease keepalive', () => this.kv.leaseKeepAlive(id));
    return this.noteRenewal(id, sent, r.found);
  }

  /** A renewal's confirmation arrived less than KEEPALIVE_REUSE_MS before `now`: it need not be repeated. */
  private confirmedRecently(now: number): boolean {
    return this.answeredAt !== null && now - this.answeredAt < KEEPALIVE_REUSE_MS;
  }

  /** The leader's answer to renewing lease `id`, asked at `sent`: move the confirmation, or drop a lease found gone. */
  private noteRenewal(id: number, sent: number, found: boolean): boolean {
    if (!found) {
      if (this.leaseId === id) this.leaseId = 0;
      return false;
    }
    this.confirmedAt = Math.max(this.confirmedAt ?? 0, sent);
    this.answeredAt = performance.now();
    return true;
  }

  leaseConfirmedAt(): number | null {
    return this.leaseId ? this.confirmedAt : null;
  }

  /** Raft status of the embedded node (term, leader, commit, peers), or null. */
  raftStatus(): unknown {
    return this.o.node?.describe() ?? null;
  }

  /** The embedded Raft node (membership jobs), or null. */
  get raftNode(): RaftNode | null {
    return this.o.node ?? null;
  }

  // --- reads ---

  async getCluster(opts: GetClusterOptions = {}): Promise<ClusterView> {
    // The HA loop's read renews the lease with the same leader confirmation (issue 4: one round
    // trip less per cycle); touchMember and updateLeader then reuse that renewal (KEEPALIVE_REUSE_MS).
    const id = this.leaseId;
    const sent = performance.now();
    const renew = opts.renewLease === true && id !== 0 && !this.confirmedRecently(sent);
    const r = await this.call('get cluster', () => this.kv.range({ prefix: this.keys.prefix }, {
      ...(renew ? { keepalive: id } : {}),
      ...(opts.unhurried === true ? { lazy: true } : {}),
    }));
    this.readLeader = null;
    if (renew && r.keepalive !== undefined && this.noteRenewal(id, sent, r.keepalive.found)) {
      const leader = r.kvs.find((kv) => kv.key === this.keys.leader);
      if (leader?.value === this.member && leader.lease === id) this.readLeader = { confirmedAt: sent, lease: id };
    }
    const nodes: RawNode[] = [];
    for (const kv of r.kvs) {
      const rel = this.keys.relative(kv.key);
      if (rel !== null) nodes.push({ key: rel, value: kv.value, version: String(kv.modRevision), lease: kv.lease ? String(kv.lease) : null });
    }
    return buildClusterView(nodes, String(r.revision), this.o.onDataWarning);
  }

  // --- leader key ---

  async attemptToAcquireLeader(): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const lease = await this.ensureLease();
      const key = this.keys.leader;
      const r = await this.txn('acquire leader', {
        compare: [{ key, target: 'create', op: '==', value: 0 }],
        success: [{ kind: 'put', key, value: this.member, lease }],
        failure: [{ kind: 'range', key }],
      });
      if (r === null) continue; // lease gone: take a new one and try again
      if (r.succeeded) return true;
      const kv = r.responses[0]?.kind === 'range' ? r.responses[0].kvs[0] : undefined;
      return !!kv && kv.value === this.member && kv.lease === lease;
    }
    throw new DcsUnavailableError('raft acquire leader: could not obtain a lease');
  }

  async updateLeader(): Promise<boolean> {
    // The cycle's own read (a moment ago) renewed the lease and saw the key ours on it: nothing to
    // ask (issue 4: one forwarded call and one read-index round less per cycle on the primary).
    const seen = this.readLeader;
    this.readLeader = null;
    if (seen !== null && seen.lease === this.leaseId && this.confirmedAt === seen.confirmedAt && this.confirmedRecently(performance.now())) {
      return true;
    }
    if (!(await this.keepalive())) {
      // The lease is gone, and the key with it: never re-create it here.
      this.leaseId = 0;
      await this.ensureLease();
    }
    const key = this.keys.leader;
    const mine: Compare = { key, target: 'value', op: '==', value: this.member };
    const r = await this.txn('update leader', { compare: [mine, { key, target: 'lease', op: '==', value: this.leaseId }], success: [], failure: [] });
    if (r?.succeeded) return true;
    // Ours by name but bound to an older lease (agent restarted): re-bind it to the current lease.
    const rebind = await this.txn('update leader', { compare: [mine], success: [{ kind: 'put', key, value: this.member, lease: this.leaseId }], failure: [] });
    return rebind?.succeeded === true;
  }

  async deleteLeader(): Promise<boolean> {
    this.readLeader = null;
    const key = this.keys.leader;
    const r = await this.txn('delete leader', { compare: [{ key, target: 'value', op: '==', value: this.member }], success: [{ kind: 'delete', key }], failure: [] });
    return r?.succeeded === true;
  }

  async touchMember(data: MemberData): Promise<void> {
    const body = JSON.stringify(data);
    for (let attempt = 0; attempt < 2; attempt++) {
      const lease = await this.ensureLease();
      if (`${lease}|${body}` === this.lastMember) {
        if (await this.keepalive()) return;
        continue;
      }
      const r = await this.txn('touch member', { compare: [], success: [{ kind: 'put', key: this.keys.member(this.member), value: body, lease }], failure: [] });
      if (r === null) continue;
      this.lastMember = `${lease}|${body}`;
      return;
    }
  }

  // --- compare-and-set records ---

  private async cas(op: string, key: string, value: string | null, expect: Expect): Promise<CasResult> {
    const compare: Compare[] = expect === undefined ? []
      : expect === null ? [{ key, target: 'create', op: '==', value: 0 }]
      : [{ key, target: 'mod', op: '==', value: Number(expect) }];
    const success: TxnOp[] = value === null ? [{ kind: 'delete', key }] : [{ kind: 'put', key, value }];
    const r = await this.txn(op, { compare, success, failure: [] });
    if (r?.succeeded) return { ok: true, version: String(r.revision) };
    return { ok: false, reason: expect === null ? 'exists' : 'version-mismatch' };
  }

  initialize(sysid: string, createNew: boolean): Promise<CasResult> {
    return this.cas('initialize', this.keys.initialize, sysid, createNew ? null : undefined);
  }
  async cancelInitialization(): Promise<void> { await this.cas('cancel initialize', this.keys.initialize, null, undefined); }
  setConfig(value: DynamicConfigJson, expect: Expect): Promise<CasResult> { return this.cas('set config', this.keys.config, JSON.stringify(value), expect); }
  setFailover(value: FailoverRequest, expect: Expect): Promise<CasResult> { return this.cas('set failover', this.keys.failover, JSON.stringify(value), expect); }
  setSync(value: SyncState, expect: Expect): Promise<CasResult> { return this.cas('set sync', this.keys.sync, serializeSync(value), expect); }
  deleteSync(expect: Expect): Promise<CasResult> { return this.cas('delete sync', this.keys.sync, null, expect); }
  setHistory(value: readonly HistoryLine[], expect: Expect): Promise<CasResult> { return this.cas('set history', this.keys.history, JSON.stringify(value), expect); }
  async setStatus(value: ClusterStatus): Promise<void> { await this.cas('set status', this.keys.status, JSON.stringify(value), undefined); }
  async setFailsafe(value: Readonly<Record<string, string>> | null): Promise<void> {
    await this.cas('set failsafe', this.keys.failsafe, value === null ? null : JSON.stringify(value), undefined);
  }
  async deleteCluster(): Promise<void> {
    await this.txn('delete cluster', { compare: [], success: [{ kind: 'deletePrefix', prefix: this.keys.prefix }], failure: [] });
  }

  async watch(sinceRevision: string, timeoutMs: number): Promise<boolean> {
    if (this.closed) return true;
    const end = performance.now() + timeoutMs;
    let after = Number(sinceRevision || '0');
    while (!this.closed) {
      const left = end - performance.now();
      if (left <= 0) return false;
      const w = await this.kv.watch(after, this.keys.prefix, left).catch(() => null);
      if (!w || w.kind === 'compacted') return true;
      if (w.events.some((e) => WAKE_KEYS.has(this.keys.relative(e.key) ?? ''))) return true;
      if (w.events.length === 0) return false;
      after = Math.max(after, ...w.events.map((e) => e.revision));
    }
    return true;
  }

  async close(opts: { revoke?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    if (opts.revoke && this.leaseId) {
      const id = this.leaseId;
      await this.kv.leaseRevoke(id).catch(() => undefined);
    }
    this.closed = true;
    this.leaseId = 0;
    await this.o.onClose?.();
  }
}
