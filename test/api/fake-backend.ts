/**
 * FakeBackend: an ApiBackend with mutable facts, for REST tests that need no PostgreSQL or DCS.
 * It records every admin call so tests can check what the API passed on.
 */
import type {
  AdminResult, ApiBackend, FailsafeRequest, HealthFacts, Job, NodeStatus, RestartRequest, SwitchoverRequest,
} from '../../src/api/backend.js';
import { DcsUnavailableError } from '../../src/dcs/errors.js';
import { EMPTY_CLUSTER, type ClusterView } from '../../src/dcs/types.js';
import type { DecisionLogEntry } from '../../src/ha/decision-log.js';

export const PRIMARY_FACTS: HealthFacts = {
  holdsLock: true, pgRunning: true, pgPrimary: true, role: 'primary', lagBytes: 0, syncStandbys: [],
  synchronousMode: false, standbyCluster: false, tags: {}, paused: false, dcsViewValid: true,
  lastCycleAgoMs: 100, ttlMs: 30_000,
};

export const REPLICA_FACTS: HealthFacts = { ...PRIMARY_FACTS, holdsLock: false, pgPrimary: false, role: 'replica', lagBytes: 0 };

export class FakeBackend implements ApiBackend {
  readonly name = 'node1';
  readonly scope = 'demo';
  facts: HealthFacts = PRIMARY_FACTS;
  view: ClusterView = EMPTY_CLUSTER;
  dcsDown = false;
  config: { value: Record<string, unknown>; version: string } | null = { value: { ttl: 30, loop_wait: 10, retry_timeout: 10 }, version: '7' };
  decisionLog: DecisionLogEntry[] = [];
  jobList: Job[] = [];
  readonly calls: Array<{ op: string; arg?: unknown }> = [];
  /** What admin calls answer. */
  adminResult: AdminResult = { status: 200, body: 'ok' };
  /** Make the next call of these ops throw a plain Error (a bug in the agent). */
  throwOn = new Set<string>();
  wakeups = 0;

  status(): NodeStatus {
    const f = this.facts;
    return {
      state: f.pgRunning ? 'running' : 'stopped',
      role: f.role === 'primary' ? 'master' : f.role,
      server_version: 150004,
      timeline: 2,
      ...(f.pgPrimary ? { xlog: { location: 1234 } } : { xlog: { received_location: 1200, replayed_location: 1100, replayed_timestamp: null, paused: false } }),
      tags: f.tags,
      dcs_last_seen: 1_700_000_000,
      database_system_identifier: '7000000000000000001',
      patroni: { version: '0.1.0', scope: this.scope, name: this.name },
      leader_key_held: f.holdsLock,
    };
  }

  health(): HealthFacts {
    if (this.throwOn.has('health')) throw new Error('health exploded');
    return this.facts;
  }

  async cluster(): Promise<ClusterView> {
    if (this.dcsDown) throw new DcsUnavailableError('etcd at 127.0.0.1:1 refused the connection');
    return this.view;
  }

  lastCluster(): ClusterView | null { return this.view; }
  decisions(): readonly DecisionLogEntry[] { return this.decisionLog; }

  async dynamicConfig(): Promise<{ value: Readonly<Record<string, unknown>>; version: string } | null> {
    if (this.dcsDown) throw new DcsUnavailableError('etcd unreachable');
    return this.config;
  }

  async writeDynamicConfig(value: Readonly<Record<string, unknown>>, expectVersion: string | null): Promise<{ ok: true } | { ok: false; status: number; message: string }> {
    this.calls.push({ op: 'writeDynamicConfig', arg: { value, expectVersion } });
    if ((this.config?.version ?? null) !== expectVersion) return { ok: false, status: 409, message: 'config changed meanwhile' };
    this.config = { value: { ...value }, version: String(Number(this.config?.version ?? 0) + 1) };
    return { ok: true };
  }

  private admin(op: string, arg?: unknown): Promise<AdminResult> {
    this.calls.push({ op, arg });
    if (this.throwOn.has(op)) return Promise.reject(new Error(`${op} exploded at /secret/path`));
    return Promise.resolve(this.adminResult);
  }

  switchover(req: SwitchoverRequest, kind: 'switchover' | 'failover'): Promise<AdminResult> { return this.admin(kind, req); }
  cancelScheduledSwitchover(): Promise<AdminResult> { return this.admin('cancelScheduledSwitchover'); }
  restart(req: RestartRequest): Promise<AdminResult> { return this.admin('restart', req); }
  cancelScheduledRestart(): Promise<AdminResult> { return this.admin('cancelScheduledRestart'); }
  reload(): Promise<AdminResult> { return this.admin('reload'); }
  reinitialize(force: boolean): Promise<AdminResult> { return this.admin('reinitialize', force); }
  /** Answers like a replica with failsafe mode on: "Accepted" unless failsafeAnswer says otherwise. */
  failsafeAnswer: AdminResult = { status: 200, body: 'Accepted' };
  failsafe(req: FailsafeRequest): AdminResult { this.calls.push({ op: 'failsafe', arg: req }); return this.failsafeAnswer; }
  job(id: string): Job | null { return this.jobList.find((j) => j.id === id) ?? null; }
  jobs(): readonly Job[] { return this.jobList; }
  wakeup(): void { this.wakeups++; }
}
