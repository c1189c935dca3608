/**
 * PostgresControl: one local PostgreSQL instance as a small API for the HA executor. It never
 * decides anything: it does what it is told and reports facts. The executor runs one operation at
 * a time on an instance; methods are not meant to overlap (except probe() and sql()).
 */
import { killOrphans, lockFiles, removeStaleLockFiles } from './orphans.js';
import { existsSync } from 'node:fs';
import { createRoles as createRolesImpl, bootstrapCluster } from './bootstrap.js';
import { query, DEFAULT_BUDGET_MS, type Row, type SqlTarget } from './client.js';
import { cloneFrom, type CloneOptions } from './clone.js';
import { pgCtlPromote, pgCtlReload, pgCtlStart, pgCtlStop, postmasterPid, type PgContext } from './control.js';
import { checkDivergence } from './divergence.js';
import { PostgresStateError } from './errors.js';
import { resolveDbUser, type DbUser } from './exec.js';
import { dirEntries, wipeDataDir, writeConfigFiles, writePgpass, writeRoleFiles } from './files.js';
import { probeInstance } from './probe.js';
import { ensureCleanShutdown, rewindFrom } from './rewind.js';
import { slotNameFromMember, syncPhysicalSlots } from './slots.js';
import { readSyncStandbyNames, writeSyncStandbyNames, type SyncStandbyNames } from './sync-guc.js';
import type { RewindVerdict } from './timeline.js';
import type { ConnInfo, PgLogger, PgProbe, PostgresSettings, RewindResult, SlotSyncResult, StartOptions, StopMode } from './types.js';

const silent: PgLogger = { debug() {}, info() {}, warn() {}, error() {} };

export class PostgresControl {
  private user: DbUser | null = null;
  private readonly log: PgLogger;

  constructor(readonly settings: PostgresSettings, deps: { readonly log?: PgLogger } = {}) {
    this.log = deps.log ?? silent;
  }

  /** Where the agent's own connections go: loopback TCP, superuser. */
  get target(): SqlTarget {
    const s = this.settings;
    return {
      host: '127.0.0.1', port: s.port, user: s.superuser.username, password: s.superuser.password,
      database: s.database ?? 'postgres',
    };
  }

  private async ctx(): Promise<PgContext> {
    this.user ??= await resolveDbUser(this.settings.dataDir);
    return { settings: this.settings, user: this.user, log: this.log, target: this.target };
  }

  /** The facts of this instance now; never throws for a down or missing server (2 s budget). */
  async probe(): Promise<PgProbe> {
    return probeInstance(await this.ctx());
  }

  /**
   * initdb, managed files, start as primary, roles. Requires an empty or missing data directory
   * (PostgresStateError otherwise). On failure the new cluster is stopped and removed, and the error
   * rethrown. Leaves the server running as primary.
   */
  async bootstrap(): Promise<void> {
    const s = this.settings;
    const existed = existsSync(s.dataDir);
    if (existed && (await dirEntries(s.dataDir)).length > 0) {
      throw new PostgresStateError(`cannot initdb into ${s.dataDir}: the data directory is not empty`);
    }
    await bootstrapCluster(await this.ctx(), () => wipeDataDir(s.dataDir, existed));
  }

  /** Create or update the replication, rewind and bootstrap roles (bootstrap() already does this). */
  async createRoles(): Promise<void> {
    await createRolesImpl(await this.ctx());
  }

  /**
   * Rewrite the managed files (settings may have changed), then pg_ctl start and wait until the
   * agent can connect. With `opts`, the role files are set first: a standby streams from
   * `primaryConninfo` through slot `slotName` (default: the slot named after this member, when
   * useSlots); without `opts` they are left as they are. Throws PostgresStartError with the server
   * log tail on failure, PostgresStateError if already running.
   */
  async start(opts?: StartOptions): Promise<void> {
    const ctx = await this.ctx();
    await writeConfigFiles(this.settings, ctx.user);
    await writePgpass(this.settings, ctx.user);
    if (opts) {
      await writeRoleFiles(this.settings, ctx.user, opts.asStandby, opts.primaryConninfo ?? null, this.slotFor(opts.slotName));
    }
    if (postmasterPid(this.settings.dataDir) === null) {
      const killed = killOrphans(this.settings.dataDir);
      if (killed > 0) this.log.info({ processes: killed }, 'ended leftover processes of a crashed postmaster');
      const sockets = this.settings.parameters.unix_socket_directories;
      const stale = removeStaleLockFiles(lockFiles(this.settings.dataDir, this.settings.port, sockets === undefined ? undefined : String(sockets)));
      if (stale.length) this.log.info({ files: stale }, 'removed stale lock files of a dead postmaster');
    }
    await pgCtlStart(ctx);
  }

  /** pg_ctl stop; false when it was not running. Throws PostgresCommandError if it did not stop in time. */
  async stop(mode: StopMode): Promise<boolean> {
    return pgCtlStop(await this.ctx(), mode);
  }

  /** Stop (`mode`, default fast) and start again with the same role and upstream. */
  async restart(mode: StopMode = 'fast'): Promise<void> {
    await this.stop(mode);
    await this.start();
  }

  /** Re-read the managed files (rewritten first, so settings changes apply) with a SIGHUP. */
  async reload(): Promise<void> {
    const ctx = await this.ctx();
    await writeConfigFiles(this.settings, ctx.user);
    await pgCtlReload(ctx);
  }

  /**
   * pg_ctl promote, waiting up to `waitSeconds` until the server leaves recovery; then the upstream
   * settings are cleared so probe().following reports null.
   */
  async promote(waitSeconds: number): Promise<void> {
    const ctx = await this.ctx();
    await pgCtlPromote(ctx, waitSeconds);
    await writeRoleFiles(this.settings, ctx.user, false, null, null);
  }

  /**
   * Point this standby at `upstream` (null: no upstream) through `slot` (default: the member's
   * slot when useSlots). PostgreSQL 13+ applies primary_conninfo/primary_slot_name on reload, so a
   * running standby is reloaded. Returns restartNeeded=true when a reload cannot apply it (server
   * running as primary, or older than 13); the caller restarts. A stopped server picks it up at start.
   */
  async changeUpstream(upstream: ConnInfo | null, slot?: string | null): Promise<{ restartNeeded: boolean }> {
    const ctx = await this.ctx();
    await writePgpass(this.settings, ctx.user);
    await writeRoleFiles(this.settings, ctx.user, true, upstream, this.slotFor(slot));
    if (postmasterPid(this.settings.dataDir) === null) return { restartNeeded: false };
    const rows = await query(ctx.target, `SELECT pg_catalog.pg_is_in_recovery() AS rec, current_setting('server_version_num')::int AS v`);
    const r = rows[0];
    if (!r || r['rec'] !== true || Number(r['v']) < 130000) return { restartNeeded: true };
    await pgCtlReload(ctx);
    this.log.info({ upstream: upstream?.member ?? upstream?.host ?? null }, 'upstream changed with a reload');
    return { restartNeeded: false };
  }

  /**
   * Clone from `from` with pg_basebackup into the empty data directory and set this node up as its
   * standby (see clone.ts). The caller then calls start() (no options needed).
   */
  async basebackup(from: ConnInfo, onProgress: (line: string) => void, opts: CloneOptions = {}): Promise<void> {
    await cloneFrom(await this.ctx(), from, onProgress, { ...opts, slotName: this.slotFor(opts.slotName) });
  }

  /** pg_rewind the stopped instance to `from` (see rewind.ts); the caller then starts it as a standby. */
  async rewind(from: ConnInfo): Promise<RewindResult> {
    return rewindFrom(await this.ctx(), from);
  }

  /** Crash recovery in single-user mode if pg_control is not "shut down"; true when it ran. */
  async ensureCleanShutdown(): Promise<boolean> {
    return ensureCleanShutdown(await this.ctx());
  }

  /** Whether pg_rewind is needed to follow `leader` (null: cannot tell). See divergence.ts. */
  async needsRewind(leader: ConnInfo): Promise<boolean | null> {
    return (await this.checkDivergence(leader))?.needed ?? null;
  }

  /** needsRewind with the reason (for logs and REST). */
  async checkDivergence(leader: ConnInfo): Promise<RewindVerdict | null> {
    return checkDivergence(await this.ctx(), leader);
  }

  /** Create missing physical slots among `names`, drop physical slots in neither list (primary only). */
  async ensurePhysicalSlots(names: readonly string[], keep: readonly string[] = []): Promise<SlotSyncResult> {
    return syncPhysicalSlots(await this.ctx(), names, keep);
  }

  /** One statement as the superuser over loopback, bounded by `budgetMs` (connect included). */
  async sql(text: string, params: readonly unknown[] = [], budgetMs = DEFAULT_BUDGET_MS): Promise<Row[]> {
    return query(this.target, text, params, budgetMs);
  }

  /** synchronous_standby_names now, and what ALTER SYSTEM set (see sync-guc.ts). */
  async syncStandbyNames(budgetMs = DEFAULT_BUDGET_MS): Promise<SyncStandbyNames> {
    return readSyncStandbyNames(this.target, budgetMs);
  }

  /** ALTER SYSTEM SET (or RESET, for null) synchronous_standby_names, then reload. Works on a standby. */
  async setSyncStandbyNames(value: string | null, budgetMs = DEFAULT_BUDGET_MS): Promise<void> {
    await writeSyncStandbyNames(this.target, value, budgetMs);
    this.log.info({ synchronous_standby_names: value }, value === null ? 'reset synchronous_standby_names' : 'set synchronous_standby_names');
  }

  /** Empty the data directory (for a re-clone). Throws PostgresStateError while the server runs. */
  async removeDataDirectory(): Promise<void> {
    if (postmasterPid(this.settings.dataDir) !== null) {
      throw new PostgresStateError(`cannot remove ${this.settings.dataDir}: the server is running`);
    }
    await wipeDataDir(this.settings.dataDir, true);
  }

  private slotFor(slot: string | null | undefined): string | null {
    if (!this.settings.useSlots) return null;
    return slot === undefined ? slotNameFromMember(this.settings.name) : slot;
  }
}
