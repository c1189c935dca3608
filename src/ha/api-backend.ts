/**
 * The agent's side of the REST API (src/api/backend.ts): status and health facts computed from what
 * the loop last saw, and admin requests turned into DCS records (failover key, config) or loop
 * requests. Switchover/failover are jobs: the call waits for the outcome, or returns a job id.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type {
  AdminResult, ApiBackend, FailsafeRequest, HealthFacts, Job, NodeStatus, RaftJobKind, RestartRequest, SwitchoverRequest,
} from '../api/backend.js';
import { DcsUnavailableError } from '../dcs/errors.js';
import type { RaftJobs } from '../raft/jobs.js';
import type { RaftNode } from '../raft/node.js';
import { parseDynamicConfig } from '../config/index.js';
import { clusterLastLsn, type ClusterView } from '../dcs/types.js';
import type { DecisionLogEntry } from './decision-log.js';
import { VERSION } from '../version.js';
import type { PgProbe } from '../postgres/types.js';
import type { Agent } from './agent.js';
import { errText } from './executor.js';
import { pgRole, replicationState } from './facts.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** How long GET /patroni waits for its live probe before answering from the cycle's. */
const LIVE_PROBE_MS = 1000;

export class AgentApi implements ApiBackend {
  private readonly jobList: Job[] = [];
  private restartTimer: NodeJS.Timeout | null = null;
  reloadRequested: (() => void) | null = null;

  constructor(private readonly agent: Agent) {}

  get name(): string { return this.agent.name; }
  get scope(): string { return this.agent.config.scope; }

  status(): NodeStatus {
    return this.statusOf(this.agent.probe);
  }

  /**
   * status() with PostgreSQL probed now instead of at the last cycle, as Patroni's GET /patroni
   * queries the server. A candidate in a leader race reads every peer's WAL position here: a
   * position up to loop_wait old could let a less advanced replica think it is the healthiest and
   * win, losing more WAL than needed and leaving the more advanced one to be rewound.
   */
  async liveStatus(): Promise<NodeStatus> {
    const cached = this.agent.probe;
    if (!cached?.running) return this.status();
    // Bounded well inside the caller's 2 s: a slow server answers with the cycle's probe rather
    // than not at all (a candidate counts a peer that does not answer as absent).
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<null>((resolve) => { timer = setTimeout(() => resolve(null), LIVE_PROBE_MS); });
    const fresh = await Promise.race([this.agent.pg.probe().catch(() => null), late]);
    clearTimeout(timer);
    return this.statusOf(fresh?.running ? fresh : cached);
  }

  private statusOf(p: PgProbe | null): NodeStatus {
    const a = this.agent;
    const base = { patroni: { version: VERSION, scope: this.scope, name: this.name } };
    if (!p) return { ...base, state: 'unknown', role: 'uninitialized' };
    const role = pgRole(p);
    const view = a.view;
    return {
      ...base,
      state: a.memberState(p),
      role,
      ...(p.postmasterStartTime ? { postmaster_start_time: p.postmasterStartTime } : {}),
      ...(p.serverVersion ? { server_version: p.serverVersion } : {}),
      ...(p.running ? { xlog: p.inRecovery
        ? { received_location: p.receivedLsn ?? 0, replayed_location: p.replayedLsn ?? 0, replayed_timestamp: null, paused: false }
        : { location: p.walPosition ?? 0 } } : {}),
      ...(p.timeline !== null ? { timeline: p.timeline } : {}),
      ...replicationState(p),
      ...(p.running && !p.inRecovery ? { replication: p.replication.map((r) => ({ application_name: r.applicationName, state: r.state ?? '', sync_state: r.syncState ?? '' })) } : {}),
      ...(a.settings.pause ? { pause: true } : {}),
      ...(view && view.leader === null ? { cluster_unlocked: true } : {}),
      // Patroni shows the key only while true: the primary runs on failsafe confirmations.
      ...(a.failsafe.state.active && a.lockValid() ? { failsafe_mode_is_active: true } : {}),
      ...(a.viewAt ? { dcs_last_seen: Math.round(Date.now() / 1000 - (performance.now() - a.viewAt) / 1000) } : {}),
      tags: a.tags() as Record<string, unknown>,
      ...(p.sysid ? { database_system_identifier: p.sysid } : {}),
      ...(p.pendingRestart.length ? { pending_restart: true } : {}),
      ...(a.scheduledRestart ? { scheduled_restart: a.scheduledRestart } : {}),
      leader_key_held: a.lockValid(),
      ...(a.lastDecision ? { last_decision: a.lastDecision.reason } : {}),
      ...(a.divergedWal.length ? { diverged_wal: a.divergedWal } : {}),
    };
  }

  health(): HealthFacts {
    const a = this.agent;
    const p = a.probe;
    const view = a.view;
    const replayed = p?.replayedLsn ?? p?.walPosition ?? null;
    const last = view ? clusterLastLsn(view) : 0;
    return {
      holdsLock: a.lockValid(),
      pgRunning: !!p?.running,
      pgPrimary: !!p?.running && !p.inRecovery,
      role: a.role(),
      lagBytes: p?.running && p.inRecovery && replayed !== null && last > 0 ? Math.max(0, last - replayed) : p?.running && p.inRecovery ? 0 : null,
      syncStandbys: view?.sync?.value.sync_standby ?? [],
      synchronousMode: a.settings.synchronousMode,
      standbyCluster: false,
      tags: a.tags() as Record<string, unknown>,
      paused: a.settings.pause,
      dcsViewValid: a.dcsError === null && a.viewAt > 0 && performance.now() - a.viewAt < a.settings.ttlSeconds * 1000,
      lastCycleAgoMs: performance.now() - a.lastCycleAt,
      ttlMs: a.settings.ttlSeconds * 1000,
    };
  }

  cluster(): Promise<ClusterView> { return this.agent.dcs.getCluster(); }
  lastCluster(): ClusterView | null { return this.agent.view; }
  decisions(): readonly DecisionLogEntry[] { return this.agent.decisions.entries(); }

  async dynamicConfig() {
    const v = await this.agent.dcs.getCluster();
    return v.config ? { value: v.config.value, version: v.config.version } : null;
  }

  async writeDynamicConfig(value: Readonly<Record<string, unknown>>, expectVersion: string | null) {
    const parsed = parseDynamicConfig(value);
    if (parsed.errors.length) return { ok: false as const, status: 400, message: parsed.errors.map((p) => `${p.path}: ${p.message}`).join('; ') };
    const r = await this.agent.dcs.setConfig(value, expectVersion);
    if (!r.ok) return { ok: false as const, status: 409, message: 'the configuration was changed concurrently; re-read and retry' };
    this.agent.wakeup();
    return { ok: true as const };
  }

  private newJob(kind: string, params: Record<string, unknown>): Job {
    const now = new Date().toISOString();
    const job: Job = { id: randomUUID(), kind, state: 'running', message: '', created_at: now, updated_at: now, params };
    this.jobList.push(job);
    if (this.jobList.length > 100) this.jobList.shift();
    return job;
  }

  private finish(job: Job, state: Job['state'], message: string): Job {
    const i = this.jobList.findIndex((j) => j.id === job.id);
    const done: Job = { ...job, state, message, updated_at: new Date().toISOString() };
    if (i >= 0) this.jobList[i] = done;
    return done;
  }

  async switchover(req: SwitchoverRequest, kind: 'switchover' | 'failover'): Promise<AdminResult> {
    const view = await this.agent.dcs.getCluster();
    const leader = view.leader?.member ?? null;
    const candidate = req.member;
    const Action = kind === 'switchover' ? 'Switchover' : 'Failover';
    if (kind === 'failover' && !candidate) return { status: 400, body: 'Failover could be performed only to a specific candidate' };
    if (kind === 'switchover' && !req.leader && !candidate) return { status: 400, body: 'Switchover could be performed only from a specific leader' };
    if (req.leader && candidate && req.leader === candidate) return { status: 400, body: `${kind} target and source are the same` };
    if (req.scheduled_at && this.agent.settings.pause) return { status: 400, body: "Can't schedule switchover in the paused state" };
    if (req.leader && req.leader !== leader) return { status: 412, body: 'leader name does not match' };
    if (candidate && !view.members.has(candidate)) return { status: 412, body: 'candidate does not exists' };
    const others = [...view.members.keys()].filter((m) => m !== leader);
    if (others.length === 0) return { status: 412, body: `${kind} is not possible: cluster does not have members except leader` };
    if (candidate && (view.members.get(candidate)?.data.tags?.nofailover === true)) return { status: 412, body: `${kind} is not possible: candidate ${candidate} is tagged nofailover` };
    const w = await this.agent.dcs.setFailover({
      ...(leader && kind === 'switchover' ? { leader } : req.leader ? { leader: req.leader } : {}),
      ...(candidate ? { member: candidate } : {}),
      ...(req.scheduled_at ? { scheduled_at: req.scheduled_at } : {}),
    }, view.failover?.version);
    if (!w.ok) return { status: 503, body: 'failed to write failover key into DCS' };
    this.agent.wakeup();
    if (req.scheduled_at) return { status: 202, body: `${Action} scheduled` };
    const job = this.newJob(kind, { from: leader, to: candidate ?? null });
    const outcome = this.waitForSwitch(job, leader, candidate ?? null, Action);
    if (req.wait === false) return { status: 202, body: { job: job.id, state: job.state, message: `${Action} started` } };
    const done = await outcome;
    return { status: done.state === 'succeeded' ? 200 : 503, body: done.message };
  }

  private async waitForSwitch(job: Job, from: string | null, to: string | null, Action: string): Promise<Job> {
    const limitMs = 2 * Math.max(10, this.agent.settings.loopWaitSeconds) * 1000 + this.agent.settings.ttlSeconds * 1000;
    const t0 = performance.now();
    while (performance.now() - t0 < limitMs) {
      await sleep(100);
      let v: ClusterView;
      try { v = await this.agent.dcs.getCluster(); } catch { continue; }
      const now = v.leader?.member ?? null;
      if (now && now !== from) {
        const m = v.members.get(now);
        if (m && (m.data.role === 'master' || m.data.role === 'primary')) {
          return this.finish(job, 'succeeded', to === null || now === to ? `Successfully ${Action === 'Switchover' ? 'switched over' : 'failed over'} to "${now}"` : `${Action === 'Switchover' ? 'Switched over' : 'Failed over'} to "${now}" instead of "${to}"`);
        }
      }
      if (now === from && (!v.failover || (!v.failover.value.member && !v.failover.value.leader))) {
        return this.finish(job, 'failed', `${Action} failed`);
      }
    }
    return this.finish(job, 'failed', `${Action} did not finish within ${Math.round(limitMs / 1000)} s`);
  }

  async cancelScheduledSwitchover(): Promise<AdminResult> {
    const v = await this.agent.dcs.getCluster();
    if (!v.failover?.value.scheduled_at) return { status: 404, body: 'no switchover is scheduled' };
    const r = await this.agent.dcs.setFailover({}, v.failover.version);
    return r.ok ? { status: 200, body: 'scheduled switchover deleted' } : { status: 409, body: 'the failover key changed concurrently' };
  }

  async restart(req: RestartRequest): Promise<AdminResult> {
    if (req.schedule) return this.scheduleRestart(req, req.schedule);
    const p = this.agent.probe;
    if (req.role) {
      const mine = p && pgRole(p) === 'master' ? ['master', 'primary'] : ['replica'];
      if (!mine.includes(req.role)) return { status: 503, body: 'restart conditions are not satisfied' };
    }
    if (req.restart_pending && !(p?.pendingRestart.length)) return { status: 503, body: 'restart conditions are not satisfied' };
    if (this.agent.task) return { status: 503, body: `${this.agent.task.kind} already in progress` };
    try {
      this.agent.task = { kind: 'restart', startedAt: performance.now() };
      await this.agent.pg.restart('fast');
      this.agent.noteRestart();
      return { status: 200, body: 'restarted successfully' };
    } catch (e) {
      return { status: 503, body: `restart failed: ${errText(e)}` };
    } finally {
      this.agent.task = null;
      this.agent.wakeup();
    }
  }

  /**
   * POST /restart {schedule}: one scheduled restart per node, kept in this agent's memory and shown in
   * its member record (ctl list). Its conditions (role, restart_pending, ...) are checked when it
   * runs, not when it is scheduled, as in Patroni. A time already past runs at once.
   */
  private scheduleRestart(req: RestartRequest, schedule: string): AdminResult {
    if (this.agent.scheduledRestart) return { status: 409, body: 'Cannot schedule: Another restart is scheduled' };
    const at = Date.parse(schedule);
    if (!Number.isFinite(at)) return { status: 422, body: `schedule: expected an ISO 8601 timestamp with a time zone, got "${schedule}"` };
    const { schedule: _s, ...conditions } = req;
    this.agent.scheduledRestart = { schedule: new Date(at).toISOString(), ...conditions };
    const arm = () => {
      // setTimeout holds at most ~24.8 days: re-arm until the time comes.
      const left = at - Date.now();
      this.restartTimer = setTimeout(() => (left > 86_400_000 ? arm() : void this.runScheduledRestart(conditions)), Math.min(Math.max(0, left), 86_400_000));
    };
    arm();
    this.agent.log.info({ schedule: this.agent.scheduledRestart['schedule'] }, 'restart scheduled');
    return { status: 202, body: 'Restart scheduled' };
  }

  private async runScheduledRestart(conditions: RestartRequest): Promise<void> {
    this.restartTimer = null;
    this.agent.scheduledRestart = null;
    const r = await this.restart(conditions);
    const log = r.status === 200 ? this.agent.log.info.bind(this.agent.log) : this.agent.log.warn.bind(this.agent.log);
    log({ status: r.status }, `scheduled restart: ${typeof r.body === 'string' ? r.body : JSON.stringify(r.body)}`);
  }

  async cancelScheduledRestart(): Promise<AdminResult> {
    if (!this.agent.scheduledRestart) return { status: 404, body: 'no restarts are scheduled' };
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    this.agent.scheduledRestart = null;
    return { status: 200, body: 'scheduled restart deleted' };
  }

  async reload(): Promise<AdminResult> {
    this.reloadRequested?.();
    return { status: 202, body: 'reload scheduled' };
  }

  async reinitialize(force: boolean): Promise<AdminResult> {
    const v = this.agent.view;
    const leader = v?.leader?.member ?? null;
    if (leader === this.name) return { status: 503, body: 'I am the leader, can not reinitialize' };
    if (!leader || !v) return { status: 503, body: 'Cluster has no leader, can not reinitialize' };
    if (this.agent.task && !force) return { status: 503, body: `${this.agent.task.kind} already in progress` };
    try {
      await this.agent.executor.run([{ kind: 'reinit', from: leader }], v);
      return { status: 200, body: 'reinitialize started' };
    } catch (e) {
      return { status: 503, body: `reinitialize failed: ${errText(e)}` };
    }
  }

  /** POST /failsafe from a primary that lost the DCS (failsafe-driver.ts decides and remembers). */
  failsafe(req: FailsafeRequest): AdminResult {
    const a = this.agent;
    const p = a.probe;
    const v = a.failsafe.receive({
      failsafeMode: a.settings.failsafeMode,
      runningPrimary: !!p?.running && !p.inRecovery,
      knownLeader: a.view?.leader?.member ?? null,
    }, req.name);
    return { status: v.status, body: v.message };
  }

  job(id: string): Job | null { return this.jobList.find((j) => j.id === id) ?? null; }
  jobs(): readonly Job[] { return [...this.jobList]; }
  wakeup(): void { this.agent.wakeup(); }
  raftStatus(): unknown | null {
    const d = this.agent.dcs as { raftStatus?: () => unknown };
    return typeof d.raftStatus === 'function' ? d.raftStatus() : null;
  }

  /** The embedded node's job runner (built-in raft DCS with jobs enabled), else null. */
  private raftJobsOf(): RaftJobs | null {
    return (this.agent.dcs as { raftNode?: RaftNode | null }).raftNode?.jobs ?? null;
  }

  async raftSubmit(kind: RaftJobKind, params: { readonly target?: string; readonly peer?: string }): Promise<Job> {
    const jobs = this.raftJobsOf();
    if (!jobs) throw new DcsUnavailableError('this agent does not run the built-in raft DCS');
    try {
      return await jobs.submit(kind, params);
    } catch (e) {
      throw new DcsUnavailableError(`storing the raft job failed: ${errText(e)}`, { cause: e });
    }
  }

  async raftJobs(): Promise<readonly Job[] | null> {
    const jobs = this.raftJobsOf();
    // A listing must not fail because the raft quorum is gone: the local jobs still show.
    return jobs ? jobs.list().catch(() => null) : null;
  }

  async raftJob(id: string): Promise<Job | null> {
    const jobs = this.raftJobsOf();
    if (!jobs) return null;
    try {
      return await jobs.get(id);
    } catch (e) {
      throw new DcsUnavailableError(`reading raft job ${id} failed: ${errText(e)}`, { cause: e });
    }
  }
}
