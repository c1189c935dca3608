/**
 * The HA loop: read the cluster, probe PostgreSQL, decide (pure), act, publish. Runs every
 * loop_wait seconds, and at once when the DCS reports a change, a task finishes, the postmaster
 * dies, or an admin request arrives.
 *
 * Safety invariant kept here, independently of decide(): a node that believes it holds the leader
 * key arms a timer at its lease deadline (last confirmed renewal + ttl - margin, monotonic clock);
 * if the deadline passes without a newer renewal while PostgreSQL runs as a primary, the timer stops
 * PostgreSQL (immediate) without waiting for the loop. In failsafe mode a round of POST /failsafe
 * that every member confirmed counts as a renewal sent when the round started (failsafe.ts).
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Config, EffectiveConfig } from '../config/index.js';
import { DcsUnavailableError } from '../dcs/errors.js';
import type { FailsafeBody, FailsafePoster } from './failsafe.js';
import { FailsafeDriver } from './failsafe-driver.js';
import type { Dcs } from '../dcs/port.js';
import { EMPTY_CLUSTER, type ClusterView, type MemberData, type MemberTags } from '../dcs/types.js';
import type { PostgresControl } from '../postgres/index.js';
import { abortLongJobs, closeKeptConnections, slotNameFromMember } from '../postgres/index.js';
import type { PgProbe } from '../postgres/types.js';
import type { Fence } from '../fence/fence.js';
import type { Watchdog } from '../watchdog/watchdog.js';
import { RepeatLimiter } from '../util/repeat-limiter.js';
import { SafetyDevices } from './safety-devices.js';
import { DivergenceCheck } from './divergence-check.js';
import { PostmasterWatch } from './postmaster-watch.js';
import { CallbackRunner, LifecycleObserver, type CallbackRole } from './callbacks.js';
import { decide } from './decide.js';
import { DecisionLog } from './decision-log.js';
import { errText, Executor, PlanAborted, type DivergedWal } from './executor.js';
import { fetchPeers, httpFailsafePoster, pgRole } from './facts.js';
import { memberDataOf, memberState, ServiceRegistration } from './member-publish.js';
import { effective, haSettings } from './settings.js';
import { SyncApplier, syncSettings } from './sync-apply.js';
import type { Action, Decision, HaSettings, LocalFacts, PeerStatus, RunningTask } from './types.js';

/** Actions that only write to the DCS: after them this cycle's PostgreSQL probe is still current. */
const DCS_ONLY_ACTIONS: ReadonlySet<Action['kind']> = new Set([
  'acquire-initialize', 'write-initialize', 'write-config', 'acquire-lock', 'renew-lock', 'release-lock', 'clear-failover', 'update-history',
]);

export interface AgentDeps {
  readonly config: Config;
  readonly dcs: Dcs;
  readonly pg: PostgresControl;
  readonly log: Logger;
  /** The separate fence process's control (null: no fence, e.g. in unit tests). */
  readonly fence?: Fence | null;
  /** A watchdog device (watchdog section), or null. */
  readonly watchdog?: Watchdog | null;
  /** How POST /failsafe reaches peers (default: HTTP with the peers' REST credentials). */
  readonly failsafePoster?: FailsafePoster;
}

export class Agent {
  config: Config;
  readonly dcs: Dcs;
  readonly pg: PostgresControl;
  readonly log: Logger;
  readonly decisions = new DecisionLog(100);
  readonly executor: Executor;
  readonly sync: SyncApplier;
  private readonly limiter: RepeatLimiter;

  eff: EffectiveConfig;
  settings: HaSettings;
  view: ClusterView | null = null;
  viewAt = 0;
  dcsError: string | null = null;
  probe: PgProbe | null = null;
  holdsLock = false;
  task: RunningTask | null = null;
  crashedAt: number | null = null;
  rewindFailed = false;
  lastDecision: Decision | null = null;
  /** Safety copies of divergent WAL made before pg_rewind (newest last, at most 20). */
  readonly divergedWal: DivergedWal[] = [];
  lastCycleAt = performance.now();
  private wasPrimaryRunning = false;
  private deadlineTimer: NodeJS.Timeout | null = null;
  private wake: (() => void) | null = null;
  private wakePending = false;
  /**
   * The last cycle changed nothing (no action, or only renewing the lock) and this one was started
   * by the loop_wait timer, not by a DCS change or a wake-up: its read may take a little longer
   * (getCluster's `unhurried`), which on the built-in Raft DCS spares a heartbeat round per read.
   */
  private quiet = false;
  private timerWake = false;
  private stopping = false;
  private readonly postmaster = new PostmasterWatch(() => {
    this.markNotRunning();
    if (!this.task) this.wakeup();
  });
  private readonly divergence: DivergenceCheck;
  private readonly guards: SafetyDevices;
  private readonly service: ServiceRegistration;
  /** A best-effort DCS write found the DCS unreachable in the last cycle (see dcsStep). */
  private dcsWriteError: string | null = null;
  /** Failsafe mode, both as the primary (rounds, the /failsafe key) and as a receiver of POST /failsafe. */
  readonly failsafe: FailsafeDriver;
  /** postgresql.callbacks, pre_promote, before_stop (callbacks.ts). */
  readonly callbacks: CallbackRunner;
  private readonly lifecycle: LifecycleObserver;
  private promoteRefusedUntilMs = -Infinity;
  /** A restart scheduled with POST /restart {schedule} (api-backend.ts runs it), published in our member record. */
  scheduledRestart: Readonly<Record<string, unknown>> | null = null;

  /** What this.eff was derived from (see cycle). */
  private effSource: { config: Config | null; version: string | null } = { config: null, version: null };

  constructor(d: AgentDeps) {
    this.config = d.config;
    this.dcs = d.dcs;
    this.pg = d.pg;
    this.log = d.log;
    this.limiter = new RepeatLimiter(d.log);
    this.service = new ServiceRegistration(d.dcs, this.limiter);
    this.guards = new SafetyDevices(d.fence ?? null, d.watchdog ?? null, d.log, this.limiter, () => performance.now());
    this.eff = effective(d.config, null);
    this.settings = haSettings(this.eff);
    const peerAuth = d.config.ctl?.authentication ?? d.config.restapi.authentication;
    this.failsafe = new FailsafeDriver({
      dcs: d.dcs, log: d.log, now: () => performance.now(),
      post: d.failsafePoster ?? httpFailsafePoster(peerAuth?.username && peerAuth.password ? { username: peerAuth.username, password: String(peerAuth.password) } : null),
    });
    const self = this;
    this.callbacks = new CallbackRunner({ get commands() { return self.config.postgresql; }, scope: d.config.scope, log: d.log });
    this.lifecycle = new LifecycleObserver(this.callbacks);
    this.sync = new SyncApplier(d.dcs, d.pg, d.log, d.config.name);
    this.divergence = new DivergenceCheck(d.pg, d.config.name);
    this.executor = new Executor({
      dcs: d.dcs, pg: d.pg, log: d.log, name: d.config.name, sync: this.sync,
      get loopWaitSeconds() { return self.settings.loopWaitSeconds; },
      bootstrapDcs: () => (self.config.bootstrap?.dcs ?? {}) as Record<string, unknown>,
      setHoldsLock: (held) => self.setHoldsLock(held),
      setTask: (t) => { self.task = t; },
      setRewindFailed: (f) => { self.rewindFailed = f; },
      markNotPrimary: () => self.markNotRunning(),
      armWatchdog: () => self.guards.armWatchdog(),
      recordDivergedWal: (w) => { self.divergedWal.push(w); if (self.divergedWal.length > 20) self.divergedWal.shift(); },
      wakeup: () => self.wakeup(),
      mono: () => performance.now(),
      hook: (name) => self.callbacks.hook(name, self.callbackRole(), self.hookTimeoutMs()),
      promoteRefusedUntil: () => self.promoteRefusedUntilMs,
      refusePromotion: () => { self.promoteRefusedUntilMs = performance.now() + self.settings.ttlSeconds * 1000; },
      noteRestart: () => self.noteRestart(),
      isStopping: () => self.stopping,
    });
  }

  get name(): string { return this.config.name; }

  /** Safety margin subtracted from ttl for the lease deadline. */
  private marginMs(): number {
    return Math.min(5000, Math.max(500, this.settings.ttlSeconds * 100));
  }

  /**
   * The instant this node must no longer accept writes: the later of the last confirmed lease
   * renewal and the start of the last fully confirmed failsafe round, + ttl - margin. The deadline
   * timer, the fence process, the watchdog and the health endpoints all read it.
   */
  leaseDeadline(): number | null {
    const lease = this.dcs.leaseConfirmedAt();
    const failsafe = this.failsafe.state.confirmedAt;
    if (lease === null && failsafe === null) return null;
    return Math.max(lease ?? -Infinity, failsafe ?? -Infinity) + this.settings.ttlSeconds * 1000 - this.marginMs();
  }

  /** Lock held and its deadline not passed: what the health endpoints call "leader". */
  lockValid(): boolean {
    const d = this.leaseDeadline();
    return this.holdsLock && d !== null && performance.now() < d;
  }

  setHoldsLock(held: boolean): void {
    this.holdsLock = held;
    if (!held) this.failsafe.state.lockLost();
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = null;
    const d = this.leaseDeadline();
    // The fence and the watchdog learn the new deadline now, not at the end of the cycle.
    this.guards.nudge();
    if (!held || d === null) return;
    this.deadlineTimer = setTimeout(() => void this.onDeadline(), Math.max(0, d - performance.now()));
  }

  private async onDeadline(): Promise<void> {
    const d = this.leaseDeadline();
    if (!this.holdsLock || d === null) return;
    if (performance.now() < d) { this.setHoldsLock(true); return; } // renewed meanwhile: re-arm
    this.log.error('leader lease deadline passed without a confirmed renewal: stopping PostgreSQL now');
    this.holdsLock = false;
    this.failsafe.state.lockLost();
    this.markNotRunning();
    await this.pg.stop('immediate').catch(() => false);
    this.wakeup();
  }

  /**
   * A synchronous hook blocks the loop (no lock renewal from the loop meanwhile), so it may take at
   * most half the ttl, and 30 s.
   */
  private hookTimeoutMs(): number {
    return Math.min(30_000, Math.max(1000, this.settings.ttlSeconds * 500));
  }

  /** The role argument of callbacks: what PostgreSQL runs as now (Patroni 3 says "master"). */
  callbackRole(): CallbackRole {
    const p = this.probe;
    return p?.running && !p.inRecovery ? 'master' : 'replica';
  }

  noteRestart(): void { this.lifecycle.noteRestart(); }

  /**
   * Shutdown during a background job: a clone (pg_basebackup) is ended (its partial data directory
   * is removed by the clone's own cleanup); a rewind or bootstrap is left to finish, since cutting
   * pg_rewind short leaves a data directory only a new rewind can repair. Waits at most 60 s.
   */
  private async endBackgroundTask(): Promise<void> {
    const kind = this.task?.kind;
    if (!kind) return;
    if (kind === 'clone' || kind === 'reinit') this.log.info({ aborted: abortLongJobs() }, `shutting down: ending the running ${kind}`);
    else this.log.info(`shutting down: waiting for the running ${kind} to finish`);
    const until = performance.now() + 60_000;
    while (this.task && performance.now() < until) await new Promise((r) => setTimeout(r, 100));
  }

  /** PostgreSQL is (being) stopped: until the next probe, health answers must not say otherwise. */
  markNotRunning(): void {
    if (this.probe) this.probe = { ...this.probe, running: false };
  }

  wakeup(): void {
    this.wakePending = true;
    this.wake?.();
  }

  /** Runs until stop() is called. */
  async run(): Promise<void> {
    this.guards.start(() => ({
      deadline: this.leaseDeadline(),
      lockValid: this.lockValid(),
      holdsLock: this.holdsLock,
      primary: !!this.probe?.running && !this.probe.inRecovery,
    }));
    while (!this.stopping) {
      const started = performance.now();
      try {
        await this.cycle();
        this.limiter.success('HA cycle');
      } catch (e) {
        this.limiter.failure('HA cycle', errText(e));
      }
      this.lastCycleAt = performance.now();
      this.guards.nudge();
      this.timerWake = false;
      if (this.stopping) break;
      if (this.wakePending) { this.wakePending = false; continue; }
      const left = Math.min(this.settings.loopWaitSeconds * 1000, this.leaderlessRetryMs()) - (performance.now() - started);
      if (left > 0) await this.sleep(left);
    }
  }

  /**
   * While the cluster has no leader and this initialized node did not take the lock (e.g. another
   * member looked healthier, or the old primary still answered as ahead while it stopped), look
   * again after 500 ms instead of loop_wait: nothing in the DCS may change to wake us (member
   * records do not wake the watch), and a graceful stop once waited a whole loop_wait here.
   */
  private leaderlessRetryMs(): number {
    const v = this.view;
    const leaderless = v !== null && v.leader === null && v.initialize !== null && !this.dcsError && !this.holdsLock;
    return leaderless && !this.settings.pause && this.probe?.dataDir === 'initialized' ? 500 : Infinity;
  }

  private async sleep(ms: number): Promise<void> {
    const since = this.view?.revision ?? '0';
    let byTimer = false;
    await new Promise<void>((resolve) => {
      // A watch of an earlier sleep may resolve late: it must not unhook this sleep's wake-up.
      const done = () => { clearTimeout(t); if (this.wake === done) this.wake = null; resolve(); };
      const t = setTimeout(() => { byTimer = true; done(); }, ms);
      this.wake = done;
      if (!this.dcsError) void this.dcs.watch(since, ms).then((changed) => { if (changed) done(); });
    });
    this.timerWake = byTimer && !this.wakePending;
    this.wakePending = false;
  }

  private async readCluster(): Promise<ClusterView> {
    const writeError = this.dcsWriteError;
    this.dcsWriteError = null;
    if (writeError !== null && this.settings.failsafeMode && this.holdsLock) {
      // The DCS failed a write a moment ago: spend no retry_timeout on a read, run the round now.
      this.dcsError = writeError;
      return this.view ?? EMPTY_CLUSTER;
    }
    try {
      const v = await this.dcs.getCluster({ renewLease: true, ...(this.quiet && this.timerWake ? { unhurried: true } : {}) });
      this.limiter.success('DCS read');
      this.view = v;
      this.viewAt = performance.now();
      this.dcsError = null;
      this.failsafe.sawView(v);
      return v;
    } catch (e) {
      // Any failure to read counts as "DCS not accessible" (issue 5): a stale view must not be acted on.
      const msg = errText(e);
      this.limiter.failure('DCS read', msg);
      this.dcsError = msg || 'unknown DCS error';
      return this.view ?? EMPTY_CLUSTER;
    }
  }

  private async cycle(): Promise<void> {
    const view = await this.readCluster();
    // Re-derived only when the local config (reload) or the stored /config (its version) changed:
    // validating the dynamic config every cycle was a visible share of an idle agent's work.
    const source = { config: this.config, version: view.config?.version ?? null };
    if (source.config !== this.effSource.config || source.version !== this.effSource.version) {
      this.eff = effective(this.config, view.config?.value ?? null);
      this.settings = haSettings(this.eff);
      this.effSource = source;
    }
    const probe = await this.pg.probe();
    this.probe = probe;
    this.trackCrash(probe);
    this.postmaster.watch(probe.postmasterPid);
    // A fresh view naming someone else (or nobody) as leader ends our belief that we hold the lock.
    if (view.leader?.member !== this.name && !this.dcsError && this.holdsLock) this.setHoldsLock(false);

    const local = await this.localFacts(view, probe);
    const decision = decide(view, local, this.settings, { mono: performance.now(), wall: Date.now() });
    this.lastDecision = decision;
    this.quiet = !this.dcsError && !this.task && decision.actions.every((a) => a.kind === 'renew-lock');
    if (this.decisions.record(decision, Date.now())) {
      this.log.info({ actions: decision.actions.map((a) => a.kind) }, decision.reason);
    }
    try {
      await this.executor.run(decision.actions, view);
      this.limiter.success('HA action');
    } catch (e) {
      if (e instanceof PlanAborted) { this.log.info({ reason: e.message }, 'plan aborted; deciding again'); this.wakePending = true; }
      else if (e instanceof DcsUnavailableError) { this.dcsError = e.message; this.dcsWriteError = e.message; this.wakePending = true; }
      else this.limiter.failure('HA action', errText(e), { actions: decision.actions.map((a) => a.kind) });
    }
    await this.afterActions(view, decision.actions.some((a) => !DCS_ONLY_ACTIONS.has(a.kind)));
  }

  /** Primary housekeeping and publishing our record. */
  private async afterActions(view: ClusterView, touchedPostgres: boolean): Promise<void> {
    // Re-probe only when an action may have changed PostgreSQL (or a background task runs); the
    // steady state (renew-lock, or nothing) publishes what this cycle's probe already saw.
    const probe = touchedPostgres || this.task || !this.probe ? await this.pg.probe() : this.probe;
    this.probe = probe;
    // Event callbacks for what changed since the last cycle (none fire during bootstrap).
    if (this.task?.kind !== 'bootstrap') this.lifecycle.observe(probe.running, probe.running && !probe.inRecovery);
    if (this.dcsError) return;
    const primary = this.holdsLock && probe.running && !probe.inRecovery;
    if (primary && this.eff.postgresql.use_slots) {
      const wanted = [...view.members.keys()].filter((m) => m !== this.name).map(slotNameFromMember);
      await this.pg.ensurePhysicalSlots(wanted).then(
        () => this.limiter.success('replication slot sync'),
        (e: unknown) => this.limiter.failure('replication slot sync', errText(e)),
      );
      const lsn = probe.walPosition;
      // Only when it moved (as the view read this cycle shows it): an idle primary writes nothing.
      if (lsn !== null && view.status?.optime !== lsn) {
        await this.dcsStep('writing /status', () => this.dcs.setStatus({ optime: lsn }));
      }
    }
    if (!primary) this.sync.reset();
    else if (!this.dcsWriteError) await this.applySync(view);
    const member = this.memberData(probe);
    if (this.lockValid()) {
      await this.dcsStep('writing the /failsafe key', () => this.failsafe.maintainKey(view, this.name, member.api_url, this.settings.failsafeMode));
    }
    if (!this.dcsWriteError) await this.service.update(primary, probe, member);
    await this.dcsStep('publishing the member record', () => this.dcs.touchMember(member));
  }

  /**
   * One best-effort DCS write of afterActions. Once one finds the DCS unreachable the cycle's other
   * writes are skipped (each would wait retry_timeout), and the next cycle starts at once: with
   * failsafe mode on, a lock holder then goes straight to its failsafe round (readCluster), as
   * Patroni handles a failed leader update in the same cycle, so the round comes well before the
   * lease deadline.
   */
  private async dcsStep(what: string, write: () => Promise<unknown>): Promise<void> {
    if (this.dcsWriteError !== null) return;
    try {
      await write();
      this.limiter.success(what);
    } catch (e) {
      this.limiter.failure(what, errText(e));
      if (e instanceof DcsUnavailableError) { this.dcsWriteError = errText(e); this.wakePending = true; }
    }
  }

  /**
   * Synchronous replication housekeeping of the primary (sync-apply.ts). Skipped in the cycle that
   * promoted: prepare-sync rewrote /sync after `view` was read, so the next cycle (at once) does it.
   */
  private async applySync(view: ClusterView): Promise<void> {
    if (this.lastDecision?.actions.some((a) => a.kind === 'prepare-sync')) { this.wakePending = true; return; }
    await this.sync.apply(view, syncSettings(this.eff)).then(
      () => this.limiter.success('synchronous replication'),
      (err: unknown) => this.limiter.failure('synchronous replication', errText(err)),
    );
  }

  private trackCrash(probe: PgProbe): void {
    const primaryUp = probe.running && !probe.inRecovery;
    if (primaryUp) { this.crashedAt = null; this.wasPrimaryRunning = true; return; }
    if (this.wasPrimaryRunning && !probe.running && this.crashedAt === null && !this.task) {
      this.crashedAt = performance.now();
      this.log.error('PostgreSQL is not running while I was primary');
    }
    if (probe.running) this.wasPrimaryRunning = false;
  }

  private async localFacts(view: ClusterView, probe: PgProbe): Promise<LocalFacts> {
    const leader = view.leader?.member ?? null;
    let peers = new Map<string, PeerStatus | null>();
    const failsafeNames = this.settings.failsafeMode ? view.failsafe : null;
    // Live peer status (REST) when racing for a free lock, and when this leader carries out a
    // switchover/failover request: member records are up to loop_wait old, and a candidate's stale
    // xlog_location once made the leader refuse a caught-up candidate as lagging.
    const f = view.failover?.value;
    const switching = leader === this.name && f !== undefined && (f.member !== undefined || f.leader !== undefined);
    if ((leader === null || switching) && !this.dcsError && probe.dataDir === 'initialized') peers = await fetchPeers(view, this.name, 2000, failsafeNames);
    const runningPrimary = probe.running && !probe.inRecovery;
    const failsafe = await this.failsafe.maybeRound(
      { dcsError: this.dcsError, settings: this.settings, lockValid: this.lockValid(), runningPrimary, deadline: this.leaseDeadline() },
      this.name, this.failsafeBody(probe),
    );
    return {
      name: this.name,
      tags: this.tags(),
      pg: {
        dataDir: probe.dataDir,
        sysid: probe.sysid,
        running: probe.running,
        inRecovery: probe.inRecovery,
        timeline: probe.timeline,
        walPosition: probe.walPosition,
        controlState: probe.controlState,
        standbySignal: probe.standbySignal,
        following: probe.following,
        needsRewind: await this.divergence.needsRewind(view, probe, leader, this.task !== null),
      },
      holdsLock: this.holdsLock,
      leaseDeadline: this.holdsLock ? this.leaseDeadline() : null,
      dcsError: this.dcsError,
      task: this.task,
      crashedAt: this.crashedAt,
      peers,
      canBootstrap: this.config.bootstrap !== undefined,
      rewindFailed: this.rewindFailed,
      failsafe,
      failsafeSender: this.failsafe.state.sender,
    };
  }

  /** What this primary tells its peers in POST /failsafe (no permanent slots are managed yet). */
  private failsafeBody(probe: PgProbe): FailsafeBody {
    const m = this.memberData(probe);
    return { name: this.name, conn_url: m.conn_url, api_url: m.api_url };
  }

  tags(): MemberTags {
    return (this.config.tags ?? {}) as MemberTags;
  }

  memberState(probe: PgProbe): string {
    return memberState(this.task, this.crashedAt, probe);
  }

  memberData(probe: PgProbe): MemberData {
    const m = memberDataOf(this.config, this.eff, probe, this.memberState(probe), this.settings.pause);
    return this.scheduledRestart ? { ...m, scheduled_restart: this.scheduledRestart } : m;
  }

  role(): 'primary' | 'replica' | 'uninitialized' | 'demoted' {
    const p = this.probe;
    if (!p) return 'uninitialized';
    const r = pgRole(p);
    return r === 'master' ? 'primary' : r;
  }

  /** SIGTERM: stop PostgreSQL cleanly, hand the leader key over, withdraw our record. */
  async shutdown(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    this.postmaster.close();
    if (this.settings.pause) {
      this.log.info('paused: leaving PostgreSQL running and the leader key in place');
      this.guards.stop();
      await closeKeptConnections();
      await this.dcs.close();
      return;
    }
    await this.endBackgroundTask();
    this.log.info('shutting down: stopping PostgreSQL (fast)');
    if (this.probe?.running) await this.callbacks.hook('before_stop', this.callbackRole(), this.hookTimeoutMs());
    await this.pg.stop('fast').catch((e: unknown) => this.log.error({ err: errText(e) }, 'stop failed'));
    if (this.holdsLock) {
      const released = await this.dcs.deleteLeader().catch(() => false);
      this.log.info(released ? 'released the leader key after a clean stop' : 'could not release the leader key; it expires with the lease');
    }
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.holdsLock = false;
    this.guards.stop();
    await closeKeptConnections();
    const d = this.dcs as { deregisterService?: () => Promise<void> };
    if (typeof d.deregisterService === 'function') await d.deregisterService().catch(() => undefined);
    await this.dcs.close({ revoke: true });
    // on_stop last, so it cannot delay the hand-over; queued callbacks get 10 s to finish.
    this.lifecycle.stopped();
    await Promise.race([this.callbacks.close(), new Promise((r) => setTimeout(r, 10_000).unref())]);
  }
}
