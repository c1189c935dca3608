/**
 * Synchronous replication, the acting part: runs on the primary after each cycle's actions (and
 * once before a promotion), reading PostgreSQL and applying resolveSync()'s steps in order. The
 * policy lives in sync.ts; this file only reads, writes and remembers the LSN at which the GUC
 * last changed.
 */
import type { Logger } from 'pino';
import type { EffectiveConfig } from '../config/index.js';
import type { Dcs } from '../dcs/port.js';
import type { ClusterView, SyncState, Versioned } from '../dcs/types.js';
import type { PostgresControl } from '../postgres/index.js';
import { parseLsnOrNull } from '../postgres/lsn.js';
import { resolveSync, type SyncReplicationRow } from './sync.js';

export interface SyncSettings {
  readonly mode: 'off' | 'on' | 'strict';
  readonly nodeCount: number;
  readonly maxLagOnSyncnode: number;
}

/** The two DCS writes synchronous mode makes (compare-and-set on /sync). */
export type SyncDcs = Pick<Dcs, 'setSync' | 'deleteSync'>;
/** What synchronous mode reads and sets in the local PostgreSQL. */
export type SyncPg = Pick<PostgresControl, 'sql' | 'syncStandbyNames' | 'setSyncStandbyNames'>;

/** The synchronous-mode keys of the effective configuration. */
export function syncSettings(e: EffectiveConfig): SyncSettings {
  return {
    mode: !e.synchronous_mode ? 'off' : e.synchronous_mode_strict ? 'strict' : 'on',
    nodeCount: e.synchronous_node_count,
    maxLagOnSyncnode: e.maximum_lag_on_syncnode,
  };
}

/** Patroni waits up to 2 s after a GUC change for the standbys to report sync before writing /sync. */
const CONFIRM_POLLS = 8;
const CONFIRM_POLL_MS = 250;

const REPL_SQL = `
  SELECT pg_catalog.pg_current_wal_flush_lsn()::text AS flush,
    (SELECT json_agg(json_build_object('name', application_name, 'state', state, 'sync', sync_state,
        'flush', flush_lsn::text)) FROM pg_catalog.pg_stat_replication) AS repl`;

interface ReplJson { name: string; state: string | null; sync: string | null; flush: string | null }

export class SyncApplier {
  /**
   * The GUC value in force and the primary's flush LSN when we first saw it in force (null: not
   * seen since our last change). A standby joins /sync only once flushed that far.
   */
  private since: { value: string; lsn: number } | null = null;

  constructor(
    private readonly dcs: SyncDcs,
    private readonly pg: SyncPg,
    private readonly log: Pick<Logger, 'info'>,
    private readonly me: string,
    /** Confirmation polling after a GUC change (tests shorten it). */
    private readonly poll: { readonly times: number; readonly everyMs: number } = { times: CONFIRM_POLLS, everyMs: CONFIRM_POLL_MS },
  ) {}

  /** Forget the GUC history (after losing the primary role: a new term starts afresh). */
  reset(): void { this.since = null; }

  /**
   * One primary cycle. Sync mode off: delete /sync, then drop our GUC value. On: resolve and apply;
   * after a GUC change, poll briefly so a confirmed standby is named in /sync in this same cycle.
   * Returns the last reason (for logs); throws on DCS or SQL errors (the caller logs them).
   */
  async apply(view: ClusterView, s: SyncSettings): Promise<string> {
    if (s.mode === 'off') return this.disable(view);
    let current: Versioned<SyncState> | null = view.sync;
    let reason = '';
    for (let poll = 0; poll <= this.poll.times; poll++) {
      // GUC first, then the flush LSN: the LSN recorded for a new value is read after it is in force.
      const guc = (await this.pg.syncStandbyNames()).current;
      const { rows, flush } = await this.replication();
      if (this.since?.value !== guc) this.since = { value: guc, lsn: flush };
      const plan = resolveSync({
        me: this.me, replication: rows, members: view.members,
        nodeCount: s.nodeCount, maxLagOnSyncnode: s.maxLagOnSyncnode, strict: s.mode === 'strict',
        current: current?.value ?? null, guc, gucSinceLsn: this.since.lsn,
      });
      reason = plan.reason;
      let changedGuc = false;
      for (const step of plan.steps) {
        if (step.kind === 'write-sync') {
          const r = await this.dcs.setSync(step.value, current?.version ?? null);
          if (!r.ok) throw new Error(`could not write /sync (${r.reason}); retrying next cycle`);
          current = { value: step.value, version: r.version };
          this.log.info({ sync: step.value }, `synchronous mode: ${plan.reason}`);
        } else {
          await this.pg.setSyncStandbyNames(step.value);
          // Commits acknowledged under the old value may end past `flush`; the next look records
          // the LSN once PostgreSQL reports the new value, and newcomers must reach that.
          this.since = null;
          changedGuc = true;
        }
      }
      // Keep polling while a chosen standby has yet to confirm after a change made in this call.
      const pending = plan.chosen.length > 0 && !plan.chosen.every((n) => current?.value.sync_standby.includes(n));
      if (!(changedGuc || (poll > 0 && pending))) break;
      await new Promise((r) => setTimeout(r, this.poll.everyMs));
    }
    return reason;
  }

  /**
   * Before promoting this standby in sync mode (Patroni's enforce_primary_role): claim /sync with no
   * standby, so no former synchronous standby of the old primary may take over from us, and in strict
   * mode set '*' so the first commit already waits for a standby. CAS failure throws (plan aborts).
   */
  async beforePromote(view: ClusterView, strict: boolean): Promise<void> {
    const r = await this.dcs.setSync({ leader: this.me, sync_standby: [] }, view.sync?.version ?? null);
    if (!r.ok) throw new Error(`could not claim /sync before promoting (${r.reason})`);
    await this.pg.setSyncStandbyNames(strict ? '*' : null);
    this.since = null;
  }

  private async disable(view: ClusterView): Promise<string> {
    const out: string[] = [];
    if (view.sync !== null) {
      const r = await this.dcs.deleteSync(view.sync.version);
      if (r.ok) out.push('deleted /sync');
    }
    const names = await this.pg.syncStandbyNames();
    if (names.ours !== null) {
      await this.pg.setSyncStandbyNames(null);
      out.push('restored synchronous_standby_names from the configuration');
    }
    this.since = null;
    if (out.length) this.log.info(`synchronous mode is off: ${out.join(', ')}`);
    return out.join(', ') || 'synchronous mode is off';
  }

  private async replication(): Promise<{ rows: SyncReplicationRow[]; flush: number }> {
    const r = (await this.pg.sql(REPL_SQL))[0];
    const raw = Array.isArray(r?.['repl']) ? (r['repl'] as ReplJson[]) : [];
    const rows = raw.map((x) => ({ applicationName: x.name, state: x.state, syncState: x.sync, flushLsn: parseLsnOrNull(x.flush) }));
    return { rows, flush: parseLsnOrNull(r?.['flush'] as string | null) ?? 0 };
  }
}
