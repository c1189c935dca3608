/**
 * The Consul adapter (shared/reference/dcs-layout.md §1.6), over the npm `consul` package.
 * Keys follow Patroni's layout without the leading slash: service/<scope>/leader.
 *
 * Invariants:
 * - One session per member (session.ts); the leader key and members/<name> are taken with
 *   `?acquire=<session>`, so Consul deletes both when the session is invalidated (behavior delete).
 * - The leader key is only created by an acquire (which fails while another session holds it), and
 *   only deleted with `?cas=<ModifyIndex>` of an entry read as ours. updateLeader() never creates a
 *   vanished leader key: losing it means losing leadership.
 * - `leaseConfirmedAt` is the send time of the last session create/renew Consul confirmed.
 * - Every call finishes within retryTimeoutMs: success, a CAS value, or DcsUnavailableError.
 */
import { ClusterKeys } from '../keys.js';
import { buildClusterView, serializeSync, type RawNode } from '../parse.js';
import type { Dcs, DcsOptions } from '../port.js';
import type {
  CasResult, ClusterStatus, ClusterView, DynamicConfigJson, Expect, FailoverRequest, HistoryLine,
  MemberData, SyncState,
} from '../types.js';
import { LeaseExpiredError } from '../errors.js';
import {
  ConsulCaller, consulIndex, createConsulClient, responseContext, withResponse,
  type CallOptions, type ConsulApi, type ConsulConnection, type KvEntry,
} from './client.js';
import { ServiceRegistration } from './service.js';
import { ConsulSession } from './session.js';
import { asEntries, BlockingWatch, wakeMap } from './watch.js';

export interface ConsulOptions extends DcsOptions, ConsulConnection {
  /** Read consistency for getCluster (Consul's default|consistent|stale). */
  readonly consistency?: 'default' | 'consistent' | 'stale';
  /** Node check ids the session is bound to (default none). */
  readonly checks?: readonly string[];
  /** register_service: registerService() registers the database with the local agent. */
  readonly registerService?: boolean;
  readonly serviceTags?: readonly string[];
  /** service_check_interval, as Consul reads it ("5s"; a bare number means seconds). */
  readonly serviceCheckInterval?: string | number;
  readonly serviceCheckTlsServerName?: string;
  /** Called when a value under the prefix could not be parsed. */
  readonly onDataWarning?: (key: string, problem: string) => void;
}

/** Patroni's layout without the leading slash (Consul keys are not paths). */
export function consulKeys(namespace: string, scope: string): ClusterKeys {
  return new ClusterKeys(ClusterKeys.of(namespace, scope).prefix.replace(/^\/+/, ''));
}

const ok = (version: string): CasResult => ({ ok: true, version });

export class ConsulDcs implements Dcs {
  readonly name = 'consul';
  readonly member: string;
  private readonly keys: ClusterKeys;
  private readonly api: ConsulApi;
  private readonly caller: ConsulCaller;
  private readonly session: ConsulSession;
  private readonly watcher: BlockingWatch;
  private readonly service: ServiceRegistration | null;
  /** "<session>|<json>" of the last member record written, to skip unchanged writes. */
  private lastMember: string | null = null;
  private closed = false;

  constructor(private readonly o: ConsulOptions, api?: ConsulApi) {
    this.member = o.member;
    this.keys = consulKeys(o.namespace, o.scope);
    this.api = api ?? createConsulClient(o);
    this.caller = new ConsulCaller(o.retryTimeoutMs);
    this.session = new ConsulSession(this.api, this.caller, { name: `${o.scope}-${o.member}`, ttlSeconds: o.ttlSeconds, checks: o.checks ?? [] });
    this.watcher = new BlockingWatch(this.api, this.keys, o.consistency === 'stale');
    const interval = typeof o.serviceCheckInterval === 'number' ? `${o.serviceCheckInterval}s` : (o.serviceCheckInterval ?? '5s');
    this.service = o.registerService ? new ServiceRegistration(this.api, this.caller, {
      scope: o.scope, member: o.member, tags: o.serviceTags ?? [], checkInterval: /^\d+(\.\d+)?$/.test(interval) ? `${interval}s` : interval,
      deregisterAfter: `${o.ttlSeconds * 5}s`, // 10 x the session TTL (ttl/2), as Patroni does
      ...(o.serviceCheckTlsServerName ? { tlsServerName: o.serviceCheckTlsServerName } : {}),
    }) : null;
  }

  private readOpts(): Partial<CallOptions> {
    if (this.o.consistency === 'consistent') return { consistent: true };
    if (this.o.consistency === 'stale') return { stale: true };
    return {};
  }

  /** One key's entry (consistent read), or null when absent. */
  private async getKey(op: string, key: string): Promise<KvEntry | null> {
    const body = await this.caller.run(op, (o) => this.api.kv.get({ ...o, key, consistent: true }));
    return asEntries(body)[0] ?? null;
  }

  private put(op: string, key: string, value: string, extra: { cas?: string; acquire?: string } = {}): Promise<boolean> {
    return this.caller.run(op, async (o) => (await this.api.kv.set({ ...o, key, value, ...extra })) === true);
  }

  private del(op: string, key: string, extra: { cas?: string; recurse?: boolean } = {}): Promise<boolean> {
    return this.caller.run(op, async (o) => (await this.api.kv.del({ ...o, key, ...extra })) === true);
  }

  leaseConfirmedAt(): number | null {
    return this.session.confirmedAt();
  }

  async getCluster(): Promise<ClusterView> {
    const { index, entries } = await this.caller.run('get cluster', async (o) => {
      const { res, body } = withResponse(await this.api.kv.get({ ...o, ...this.readOpts(), key: this.keys.prefix, recurse: true, ctx: responseContext() }));
      return { index: consulIndex(res), entries: asEntries(body) };
    });
    const nodes: RawNode[] = [];
    for (const e of entries) {
      const rel = this.keys.relative(e.Key);
      if (rel === null) continue;
      nodes.push({ key: rel, value: e.Value ?? '', version: String(e.ModifyIndex), lease: e.Session || null });
    }
    this.watcher.remember(index, wakeMap(entries, this.keys));
    return buildClusterView(nodes, index, this.o.onDataWarning);
  }

  // --- leader key ---

  /** Run `fn` with our session; if Consul says the session is gone, take a new one and retry once. */
  private async withSession<T>(fn: (session: string) => Promise<T>): Promise<T> {
    const id = await this.session.ensure();
    try {
      return await fn(id);
    } catch (e) {
      if (!(e instanceof LeaseExpiredError)) throw e;
      this.session.forget(id);
      return fn(await this.session.ensure());
    }
  }

  async attemptToAcquireLeader(): Promise<boolean> {
    // acquire is idempotent for the holder, so a retried request whose first answer was lost is safe.
    return this.withSession((s) => this.put('acquire leader', this.keys.leader, this.member, { acquire: s }));
  }

  async updateLeader(): Promise<boolean> {
    // A session Consul no longer knows took its keys with it (behavior delete), so a key with our
    // name found after a re-create belongs to another live session of ours (a previous process).
    await this.session.renewOrCreate();
    const s = this.session.id;
    const e = await this.getKey('update leader', this.keys.leader);
    if (!e || e.Value !== this.member) return false;
    if (e.Session === s) return true;
    // Our name, another session (a previous process of ours): re-bind it to this session. The delete
    // is CAS on what we read, and the acquire fails if anyone else took the key in between.
    if (!(await this.del('update leader', this.keys.leader, { cas: String(e.ModifyIndex) }))) return false;
    return this.put('update leader', this.keys.leader, this.member, { acquire: s! });
  }

  async deleteLeader(): Promise<boolean> {
    const e = await this.getKey('delete leader', this.keys.leader);
    if (!e || e.Value !== this.member) return false;
    return this.del('delete leader', this.keys.leader, { cas: String(e.ModifyIndex) });
  }

  async touchMember(data: MemberData): Promise<void> {
    const body = JSON.stringify(data);
    const key = this.keys.member(this.member);
    // The record is bound to the session: keep the session alive on every touch (a write alone does
    // not renew it); a re-created session means Consul deleted the record, so write it again.
    await this.session.renewOrCreate();
    await this.withSession(async (s) => {
      const tag = `${s}|${body}`;
      if (tag === this.lastMember) return;
      if (!(await this.put('touch member', key, body, { acquire: s }))) {
        // Held by another session of ours (a previous process): delete it and take it again.
        const e = await this.getKey('touch member', key);
        if (e) await this.del('touch member', key, { cas: String(e.ModifyIndex) });
        if (!(await this.put('touch member', key, body, { acquire: s }))) return;
      }
      this.lastMember = tag;
    });
  }

  /** Register the local database as a Consul service (no-op unless register_service is set). */
  async registerService(role: string, apiUrl: string, connUrl?: string): Promise<boolean> {
    return this.service ? this.service.update(role, apiUrl, connUrl) : false;
  }

  async deregisterService(): Promise<void> {
    await this.service?.deregister();
  }

  // --- compare-and-set records ---

  /**
   * A KV PUT answers only true/false, so the new ModifyIndex is read back (Patroni does the same
   * for /sync). If someone overwrote the key in between, their version must not be handed out as
   * ours: we answer version "0", which no later CAS can match except a create-only one.
   */
  private async cas(op: string, key: string, value: string, expect: Expect): Promise<CasResult> {
    const cas = expect === undefined ? {} : { cas: expect === null ? '0' : expect };
    if (!(await this.put(op, key, value, cas))) return { ok: false, reason: expect === null ? 'exists' : 'version-mismatch' };
    const e = await this.getKey(op, key);
    return ok(e && (e.Value ?? '') === value ? String(e.ModifyIndex) : '0');
  }

  initialize(sysid: string, createNew: boolean): Promise<CasResult> {
    return this.cas('initialize', this.keys.initialize, sysid, createNew ? null : undefined);
  }
  async cancelInitialization(): Promise<void> {
    await this.del('cancel initialize', this.keys.initialize);
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
  async deleteSync(expect: Expect): Promise<CasResult> {
    if (expect === null) {
      // "Must not exist": nothing to delete when absent, a lost race when present.
      return (await this.getKey('delete sync', this.keys.sync)) ? { ok: false, reason: 'exists' } : ok('0');
    }
    // Consul refuses cas=0 on DELETE (docs: "a 0 index will not delete the key").
    const done = await this.del('delete sync', this.keys.sync, expect === undefined ? {} : { cas: expect });
    return done ? ok('0') : { ok: false, reason: 'version-mismatch' };
  }
  setHistory(value: readonly HistoryLine[], expect: Expect): Promise<CasResult> {
    return this.cas('set history', this.keys.history, JSON.stringify(value), expect);
  }
  async setStatus(value: ClusterStatus): Promise<void> {
    await this.put('set status', this.keys.status, JSON.stringify(value));
  }
  async setFailsafe(value: Readonly<Record<string, string>> | null): Promise<void> {
    if (value === null) await this.del('set failsafe', this.keys.failsafe);
    else await this.put('set failsafe', this.keys.failsafe, JSON.stringify(value));
  }
  async deleteCluster(): Promise<void> {
    await this.del('delete cluster', this.keys.prefix, { recurse: true });
  }

  watch(sinceRevision: string, timeoutMs: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return this.watcher.wait(sinceRevision, timeoutMs);
  }

  async close(opts: { revoke?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    const budget = Math.min(2000, this.o.retryTimeoutMs);
    // Best effort: the agent also drops a critical service by itself (deregister-after).
    await this.service?.deregister(budget).catch(() => undefined);
    if (opts.revoke) await this.session.destroy(budget);
    this.closed = true;
    this.caller.closed = true;
    this.watcher.close();
    this.api.destroy();
  }
}
