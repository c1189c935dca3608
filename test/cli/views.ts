/**
 * Hand-built ClusterViews for ctl tests, and FakeDcs: a Dcs that serves a fixed view and records
 * writes (ctl only reads the cluster, CAS-writes the config, and deletes the cluster).
 */
import type { Dcs } from '../../src/dcs/port.js';
import { EMPTY_CLUSTER, type CasResult, type ClusterView, type FailoverRequest, type Member, type MemberData } from '../../src/dcs/types.js';

export function member(name: string, data: Partial<MemberData> = {}): Member {
  return {
    name, version: '1', session: null,
    data: { conn_url: `postgres://replicator@127.0.0.1:5432/postgres`, api_url: 'http://127.0.0.1:1/patroni', state: 'running', role: 'replica', version: '0.1.0', ...data },
  };
}

/** A healthy three-node cluster: "a" leads, "b" is a sync standby 2 MiB behind, "c" has unknown lag. */
export function healthyCluster(over: Partial<MemberData> = {}): ClusterView {
  const ms = [
    member('a', { role: 'master', xlog_location: 50 * 1024 * 1024, timeline: 3, conn_url: 'postgres://r@10.0.0.1:5432/postgres', ...over }),
    member('b', { xlog_location: 48 * 1024 * 1024, timeline: 3, replication_state: 'streaming', conn_url: 'postgres://r@10.0.0.2:5432/postgres', ...over }),
    member('c', { timeline: 3, state: 'starting', conn_url: 'postgres://r@10.0.0.3:5432/postgres', ...over }),
  ];
  return {
    ...EMPTY_CLUSTER,
    initialize: { value: '7300000000000000042', version: '1' },
    config: { value: { ttl: 30, loop_wait: 10, retry_timeout: 10, postgresql: { parameters: { work_mem: '4MB' } } }, version: '9' },
    leader: { member: 'a', version: '2', session: 'x' },
    members: new Map(ms.map((m) => [m.name, m])),
    sync: { value: { leader: 'a', sync_standby: ['b'] }, version: '3' },
    status: { optime: 50 * 1024 * 1024 },
    history: { value: [[1, 83886240, 'no recovery target specified', '2024-05-01T10:00:00+00:00', 'a'], [2, 100663456, 'no recovery target specified']], version: '4' },
  };
}

export class FakeDcs implements Dcs {
  readonly name = 'fake';
  readonly member = 'ctl-test';
  closed = 0;
  deleted = 0;
  readonly configWrites: Array<{ value: unknown; expect: unknown }> = [];
  constructor(public view: ClusterView) {}
  async getCluster(): Promise<ClusterView> { return this.view; }
  async setConfig(value: Readonly<Record<string, unknown>>, expect: string | null | undefined): Promise<CasResult> {
    this.configWrites.push({ value, expect });
    if (expect !== (this.view.config?.version ?? null)) return { ok: false, reason: 'version-mismatch' };
    return { ok: true, version: '10' };
  }
  readonly failoverWrites: Array<{ value: FailoverRequest; expect: string | null | undefined }> = [];
  async setFailover(value: FailoverRequest, expect: string | null | undefined): Promise<CasResult> {
    this.failoverWrites.push({ value, expect });
    if (expect !== (this.view.failover?.version ?? null)) return { ok: false, reason: 'version-mismatch' };
    return { ok: true, version: '11' };
  }
  async deleteCluster(): Promise<void> { this.deleted++; }
  async close(): Promise<void> { this.closed++; }
  // Not used by ctl: a call is a bug in ctl.
  private no(): never { throw new Error('FakeDcs: ctl must not call this'); }
  attemptToAcquireLeader(): Promise<boolean> { return this.no(); }
  updateLeader(): Promise<boolean> { return this.no(); }
  deleteLeader(): Promise<boolean> { return this.no(); }
  touchMember(): Promise<void> { return this.no(); }
  leaseConfirmedAt(): number | null { return this.no(); }
  initialize(): Promise<CasResult> { return this.no(); }
  cancelInitialization(): Promise<void> { return this.no(); }
  setSync(): Promise<CasResult> { return this.no(); }
  deleteSync(): Promise<CasResult> { return this.no(); }
  setHistory(): Promise<CasResult> { return this.no(); }
  setStatus(): Promise<void> { return this.no(); }
  setFailsafe(): Promise<void> { return this.no(); }
  watch(): Promise<boolean> { return this.no(); }
}
