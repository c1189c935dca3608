/**
 * Carries out a Decision's actions, in order. An action that fails or loses a race throws
 * PlanAborted: the rest of the plan is skipped and the loop runs another cycle at once. Long jobs
 * (bootstrap, clone, rewind, reinit) run as a background task so the loop keeps publishing its
 * state and renewing its lock meanwhile; decide() sees `task` and waits.
 */
import type { Logger } from 'pino';
import type { Dcs } from '../dcs/port.js';
import type { ClusterView, HistoryLine } from '../dcs/types.js';
import type { PostgresControl } from '../postgres/index.js';
import { slotNameFromMember } from '../postgres/index.js';
import type { ConnInfo } from '../postgres/types.js';
import type { HookName, ScriptResult } from './callbacks.js';
import type { SyncApplier } from './sync-apply.js';
import type { Action, RunningTask } from './types.js';

/** A copy of WAL that pg_rewind was about to throw away: transactions an async failover lost. */
export interface DivergedWal {
  readonly dir: string;
  readonly at: string;
  readonly rewoundFrom: string;
  readonly rewindSucceeded: boolean;
}

export class PlanAborted extends Error {
  constructor(message: string) { super(message); this.name = 'PlanAborted'; }
}

/** What the executor needs from the agent (its mutable state and helpers). */
export interface ExecutorHost {
  readonly dcs: Dcs;
  readonly pg: PostgresControl;
  readonly log: Logger;
  readonly name: string;
  readonly loopWaitSeconds: number;
  /** Synchronous replication on this node (prepare-sync). */
  readonly sync: SyncApplier;
  /** bootstrap.dcs as JSON for write-config. */
  bootstrapDcs(): Readonly<Record<string, unknown>>;
  setHoldsLock(held: boolean): void;
  setTask(task: RunningTask | null): void;
  setRewindFailed(failed: boolean): void;
  /** Forget that PostgreSQL is a running primary until the next probe (health endpoints read it). */
  markNotPrimary(): void;
  /** Remember where pg_rewind's safety copy of the divergent WAL went (GET /patroni shows it). */
  recordDivergedWal(entry: DivergedWal): void;
  /** Arm the watchdog device before promoting; a reason string when mode 'required' cannot. */
  armWatchdog(): string | null;
  wakeup(): void;
  mono(): number;
  /** Run the pre_promote / before_stop script (null when none is configured). */
  hook(name: HookName): Promise<ScriptResult | null>;
  /** While mono() is below this, do not take the leader lock (a pre_promote script refused). */
  promoteRefusedUntil(): number;
  refusePromotion(): void;
  /** The agent itself restarted PostgreSQL (on_restart, not on_stop + on_start). */
  noteRestart(): void;
  /** The agent is shutting down: a background job that finishes now must not start PostgreSQL. */
  isStopping(): boolean;
}

export function connOf(view: ClusterView, member: string): ConnInfo {
  const m = view.members.get(member);
  if (!m || !m.data.conn_url) throw new PlanAborted(`member ${member} has no conn_url in the DCS`);
  const u = new URL(m.data.conn_url);
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 5432), member };
}

export class Executor {
  constructor(private readonly h: ExecutorHost) {}

  async run(actions: readonly Action[], view: ClusterView): Promise<void> {
    for (const a of actions) await this.one(a, view);
  }

  private background(kind: RunningTask['kind'], job: () => Promise<void>): void {
    this.h.setTask({ kind, startedAt: this.h.mono() });
    job().catch((e: unknown) => this.h.log.error({ err: errText(e), task: kind }, `${kind} failed`))
      .finally(() => { this.h.setTask(null); this.h.wakeup(); });
  }

  private slot(): string { return slotNameFromMember(this.h.name); }

  private async startReplica(view: ClusterView, follow: string | null): Promise<void> {
    if (this.h.isStopping()) { this.h.log.info('shutting down: not starting PostgreSQL after the background job'); return; }
    await this.h.pg.start(follow
      ? { asStandby: true, primaryConninfo: connOf(view, follow), slotName: this.slot() }
      : { asStandby: true, primaryConninfo: null });
  }

  private async one(a: Action, view: ClusterView): Promise<void> {
    const { dcs, pg, log } = this.h;
    switch (a.kind) {
      case 'acquire-initialize': {
        const r = await dcs.initialize('', true);
        if (!r.ok) throw new PlanAborted('lost the initialize race');
        return;
      }
      case 'bootstrap':
        this.background('bootstrap', async () => {
          try {
            log.info('bootstrapping a new cluster with initdb');
            await pg.bootstrap();
            if (!(await dcs.attemptToAcquireLeader())) throw new Error('another member took the leader key during bootstrap');
            this.h.setHoldsLock(true);
            const probe = await pg.probe();
            if (probe.sysid) await dcs.initialize(probe.sysid, false);
            await dcs.setConfig(this.h.bootstrapDcs(), null);
            log.info({ sysid: probe.sysid }, 'bootstrap finished: I am the leader');
          } catch (e) {
            log.error({ err: errText(e) }, 'bootstrap failed: removing the initialize key and the new data directory');
            await dcs.cancelInitialization().catch(() => undefined);
            await pg.stop('immediate').catch(() => undefined);
            await pg.removeDataDirectory().catch(() => undefined);
            throw e;
          }
        });
        return;
      case 'cancel-initialize':
        await dcs.cancelInitialization();
        return;
      case 'write-initialize': {
        const r = await dcs.initialize(a.sysid, view.initialize === null);
        if (!r.ok) throw new PlanAborted('another member wrote the initialize key first');
        return;
      }
      case 'write-config':
        await dcs.setConfig(this.h.bootstrapDcs(), null);
        return;
      case 'clone':
      case 'reinit': {
        const from = connOf(view, a.from);
        const leader = view.leader?.member ?? null;
        this.background(a.kind, async () => {
          if (a.kind === 'reinit') {
            await pg.stop('immediate').catch(() => false);
            await pg.removeDataDirectory();
          }
          log.info({ from: a.from }, `creating a replica with pg_basebackup from ${a.from}`);
          let last = 0;
          await pg.basebackup(from, (line) => {
            const now = this.h.mono();
            if (now - last > 2000) { last = now; log.info({ progress: line.trim() }, 'pg_basebackup progress'); }
          });
          this.h.setRewindFailed(false);
          await this.startReplica(view, leader ?? a.from);
        });
        return;
      }
      case 'acquire-lock': {
        if (this.h.mono() < this.h.promoteRefusedUntil()) throw new PlanAborted('pre_promote failed recently: not taking the leader lock for ttl seconds');
        const ok = await dcs.attemptToAcquireLeader();
        this.h.setHoldsLock(ok);
        if (!ok) throw new PlanAborted('another member holds the leader lock');
        log.info('acquired the leader lock');
        return;
      }
      case 'renew-lock': {
        const ok = await dcs.updateLeader();
        this.h.setHoldsLock(ok);
        if (!ok) throw new PlanAborted('the leader lock is no longer mine');
        return;
      }
      case 'release-lock':
        await dcs.deleteLeader();
        this.h.setHoldsLock(false);
        return;
      case 'prepare-sync':
        await this.h.sync.beforePromote(view, a.strict).catch((e: unknown) => { throw new PlanAborted(errText(e)); });
        log.info({ strict: a.strict }, 'claimed /sync before promoting');
        return;
      case 'promote': {
        // watchdog.mode required: no writes without an armed device (the lock is released for others).
        const refused = this.h.armWatchdog();
        if (refused) {
          await dcs.deleteLeader().catch(() => false);
          this.h.setHoldsLock(false);
          throw new PlanAborted(`not promoting: ${refused}`);
        }
        const pre = await this.h.hook('pre_promote');
        if (pre && pre.code !== 0) {
          // Patroni's rule: a failed pre_promote gives the lock back and keeps out of the race for ttl.
          await dcs.deleteLeader().catch(() => false);
          this.h.setHoldsLock(false);
          this.h.refusePromotion();
          throw new PlanAborted(`not promoting: pre_promote ${pre.timedOut ? 'timed out' : `exited with ${pre.code ?? pre.error ?? 'a signal'}`}`);
        }
        log.info('promoting PostgreSQL');
        await pg.promote(Math.max(5, this.h.loopWaitSeconds));
        this.h.wakeup();
        return;
      }
      case 'demote':
        await this.demote(a.mode);
        return;
      case 'start':
        if (a.role === 'primary') await pg.start({ asStandby: false });
        else await this.startReplica(view, a.role === 'replica' ? a.follow : null);
        return;
      case 'follow': {
        const r = await pg.changeUpstream(a.leader ? connOf(view, a.leader) : null, a.leader ? this.slot() : null);
        if (r.restartNeeded) await pg.restart('fast');
        log.info({ leader: a.leader }, a.leader ? `now following ${a.leader}` : 'following nobody');
        return;
      }
      case 'stop':
        await this.h.hook('before_stop');
        await pg.stop(a.mode);
        return;
      case 'restart':
        await pg.restart('fast');
        this.h.noteRestart();
        return;
      case 'rewind': {
        const from = connOf(view, a.from);
        this.background('rewind', async () => {
          await pg.stop('fast').catch(() => false);
          const r = await pg.rewind(from);
          if (r.divergedWalDir) this.h.recordDivergedWal({ dir: r.divergedWalDir, at: new Date().toISOString(), rewoundFrom: a.from, rewindSucceeded: r.ok });
          if (!r.ok) {
            this.h.setRewindFailed(true);
            log.error({ output: r.output.slice(-2000) }, 'pg_rewind failed');
            return;
          }
          log.info({ divergedWal: r.divergedWalDir }, `pg_rewind from ${a.from} succeeded; diverged WAL kept aside`);
          this.h.setRewindFailed(false);
          await this.startReplica(view, a.from);
        });
        return;
      }
      case 'clear-failover':
        if (view.failover) await dcs.setFailover({}, view.failover.version);
        return;
      case 'update-history':
        await this.updateHistory(view);
        return;
    }
  }

  /** Stop writes first, then (for modes that own the key) hand the lock over, then start read-only. */
  private async demote(mode: 'offline' | 'graceful' | 'immediate' | 'immediate-nolock'): Promise<void> {
    const { dcs, pg, log } = this.h;
    log.warn({ mode }, 'demoting');
    // Stop advertising leadership first: /primary answers 503 from this moment, before PostgreSQL
    // has finished stopping, so a load balancer drains this node as early as possible.
    const owned = mode === 'graceful' || mode === 'immediate';
    this.h.setHoldsLock(false);
    this.h.markNotPrimary();
    // before_stop (e.g. PAUSE a pooler) only on a planned demote: 'offline' (the lock cannot be
    // confirmed) and the immediate modes must stop writes without waiting for a script.
    if (mode === 'graceful') await this.h.hook('before_stop');
    await pg.stop(mode === 'graceful' || mode === 'offline' ? 'fast' : 'immediate').catch(() => false);
    if (owned) {
      await dcs.deleteLeader().catch((e: unknown) => log.warn({ err: errText(e) }, 'could not release the leader key'));
    }
    // Back up as a read-only standby with no upstream; the next cycle follows the new leader after
    // the divergence check (never stream from a timeline we are not a child of).
    await pg.start({ asStandby: true, primaryConninfo: null }).catch((e: unknown) => log.warn({ err: errText(e) }, 'could not restart read-only after demote'));
    this.h.wakeup();
  }

  private async updateHistory(view: ClusterView): Promise<void> {
    const rows = await this.h.pg.sql("SELECT timeline_id FROM pg_control_checkpoint()");
    const probe = await this.h.pg.probe();
    const tl = probe.timeline ?? Number(rows[0]?.timeline_id ?? 1);
    if (tl <= 1) return;
    const name = `pg_wal/${tl.toString(16).toUpperCase().padStart(8, '0')}.history`;
    const file = await this.h.pg.sql('SELECT pg_read_file($1) AS content', [name]);
    const lines: HistoryLine[] = [];
    for (const raw of String(file[0]?.content ?? '').split('\n')) {
      const m = /^\s*(\d+)\s+([0-9A-Fa-f]+)\/([0-9A-Fa-f]+)\s*(.*)$/.exec(raw);
      if (!m) continue;
      const lsn = parseInt(m[2]!, 16) * 2 ** 32 + parseInt(m[3]!, 16);
      lines.push([Number(m[1]), lsn, m[4]!.trim()]);
    }
    const last = lines[lines.length - 1];
    if (last) lines[lines.length - 1] = [last[0], last[1], last[2], new Date().toISOString(), this.h.name];
    await this.h.dcs.setHistory(lines, view.history?.version);
  }
}

export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
