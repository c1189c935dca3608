/**
 * GET /metrics: Prometheus text exposition with Patroni's metric names and {scope,name} labels
 * (shared/reference/rest-api.md §3.3), so existing dashboards and alerts keep working.
 */
import type { HealthFacts, NodeStatus } from './backend.js';

/** "3.3.1" -> 30301 (Patroni prints it zero-padded: 030301). Non-numeric parts count as 0. */
export function versionNumber(v: string): number {
  const [a, b, c] = v.split('.').map((p) => Number.parseInt(p, 10) || 0);
  return (a ?? 0) * 10000 + (b ?? 0) * 100 + (c ?? 0);
}

/** Escapes a label value per the exposition format (backslash, double quote, newline). */
function label(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

const num = (b: boolean | undefined): number => (b ? 1 : 0);

function epochSeconds(iso: string | null | undefined): number {
  if (!iso) return 0;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t / 1000 : 0;
}

type Metric = readonly [name: string, help: string, type: 'gauge' | 'counter', value: number];

function collect(s: NodeStatus, f: HealthFacts): Metric[] {
  const x = s.xlog ?? {};
  const isPrimary = f.pgRunning && f.pgPrimary;
  const loc = 'location' in x ? x.location : 0;
  const rx = 'location' in x ? {} : x;
  const streaming = s.replication_state === 'streaming';
  return [
    ['patroni_version', 'Version of the orchestrator (Patroni format).', 'gauge', versionNumber(s.patroni.version)],
    ['patroni_postgres_running', 'Value is 1 if PostgreSQL is running, 0 otherwise.', 'gauge', num(f.pgRunning)],
    ['patroni_postmaster_start_time', 'Epoch seconds since PostgreSQL started.', 'gauge', epochSeconds(s.postmaster_start_time)],
    ['patroni_master', 'Value is 1 if this node is the leader, 0 otherwise.', 'gauge', num(isPrimary && f.holdsLock)],
    ['patroni_primary', 'Value is 1 if this node is the leader, 0 otherwise.', 'gauge', num(isPrimary && f.holdsLock)],
    ['patroni_standby_leader', 'Value is 1 if this node is the standby_leader, 0 otherwise.', 'gauge', num(f.role === 'standby_leader')],
    ['patroni_replica', 'Value is 1 if this node is a replica, 0 otherwise.', 'gauge', num(f.role === 'replica')],
    ['patroni_sync_standby', 'Value is 1 if this node is a sync standby replica, 0 otherwise.', 'gauge', num(s.sync_standby)],
    ['patroni_xlog_location', 'Current location of the PostgreSQL transaction log, 0 if this node is not the leader.', 'counter', isPrimary ? loc : 0],
    ['patroni_xlog_received_location', 'Current location of the received PostgreSQL transaction log, 0 if this node is not a replica.', 'counter', rx.received_location ?? 0],
    ['patroni_xlog_replayed_location', 'Current location of the replayed PostgreSQL transaction log, 0 if this node is not a replica.', 'counter', rx.replayed_location ?? 0],
    ['patroni_xlog_replayed_timestamp', 'Current timestamp of the replayed PostgreSQL transaction log, 0 if null.', 'gauge', epochSeconds(rx.replayed_timestamp)],
    ['patroni_xlog_paused', 'Value is 1 if the PostgreSQL xlog is paused, 0 otherwise.', 'gauge', num(rx.paused)],
    ['patroni_postgres_streaming', 'Value is 1 if the PostgreSQL replication is streaming, 0 otherwise.', 'gauge', num(streaming)],
    ['patroni_postgres_in_archive_recovery', 'Value is 1 if PostgreSQL is replicating from archive, 0 otherwise.', 'gauge', num(s.replication_state === 'in archive recovery')],
    ['patroni_postgres_server_version', 'Version of the PostgreSQL server.', 'gauge', s.server_version ?? 0],
    ['patroni_postgres_timeline', 'PostgreSQL timeline of this node (if running), 0 otherwise.', 'counter', s.timeline ?? 0],
    ['patroni_cluster_unlocked', 'Value is 1 if the cluster is unlocked, 0 if locked.', 'gauge', num(s.cluster_unlocked)],
    ['patroni_failsafe_mode_is_active', 'Value is 1 if failsafe mode is active, 0 if inactive.', 'gauge', num(s.failsafe_mode_is_active)],
    ['patroni_dcs_last_seen', 'Epoch timestamp when the DCS was last contacted successfully.', 'gauge', s.dcs_last_seen ?? 0],
    ['patroni_pending_restart', 'Value is 1 if the node needs a restart, 0 otherwise.', 'gauge', num(s.pending_restart)],
    ['patroni_is_paused', 'Value is 1 if auto failover is disabled, 0 otherwise.', 'gauge', num(f.paused || s.pause)],
  ];
}

/** Renders the metrics for one node as Prometheus text (version 0.0.4). */
export function renderMetrics(s: NodeStatus, f: HealthFacts): string {
  const labels = `{scope="${label(s.patroni.scope)}",name="${label(s.patroni.name)}"}`;
  const lines: string[] = [];
  for (const [name, help, type, value] of collect(s, f)) {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, `${name}${labels} ${value}`);
  }
  return `${lines.join('\n')}\n`;
}

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
