/**
 * The cluster as Patroni's GET /cluster shows it (shared/reference/rest-api.md §3.3), computed from a
 * ClusterView. Pure; `ctl list` renders the same summary, so the REST API and the CLI never disagree
 * about who is the leader or how far behind a replica is.
 */
import { clusterLastLsn, clusterTimeline, type ClusterView, type Member } from '../dcs/types.js';

export type ClusterRole = 'leader' | 'standby_leader' | 'sync_standby' | 'replica';

export interface MemberSummary {
  readonly name: string;
  readonly role: ClusterRole;
  readonly state: string;
  readonly api_url: string;
  readonly host?: string;
  readonly port?: number;
  readonly timeline?: number;
  /** Bytes behind the cluster's last known leader position, or "unknown"; absent for the leader. */
  readonly lag?: number | 'unknown';
  readonly tags?: Readonly<Record<string, unknown>>;
  readonly pending_restart?: boolean;
  readonly pending_restart_reason?: Readonly<Record<string, unknown>>;
  readonly scheduled_restart?: Readonly<Record<string, unknown>>;
}

export interface ClusterSummary {
  readonly members: readonly MemberSummary[];
  readonly scope: string;
  readonly pause?: true;
  readonly scheduled_switchover?: { readonly at: string; readonly from?: string; readonly to?: string };
}

/** Host and port of a member's conn_url ("postgres://user@host:5432/db"), when it has them. */
export function connHostPort(connUrl: string): { host: string; port: number } | null {
  try {
    const u = new URL(connUrl);
    if (u.hostname === '') return null;
    return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: u.port === '' ? 5432 : Number(u.port) };
  } catch {
    return null;
  }
}

/** Whether the dynamic config describes a standby cluster. */
export function isStandbyCluster(view: ClusterView): boolean {
  const sc = view.config?.value['standby_cluster'];
  return typeof sc === 'object' && sc !== null && Object.keys(sc).length > 0;
}

/** Names in /sync, lower-cased (Patroni matches them case-insensitively). */
function syncNames(view: ClusterView): Set<string> {
  return new Set((view.sync?.value.sync_standby ?? []).map((s) => s.toLowerCase()));
}

/** The role a member plays in the cluster: the key holder leads, /sync names are sync standbys. */
export function memberRole(view: ClusterView, m: Member): ClusterRole {
  if (view.leader?.member === m.name) {
    return isStandbyCluster(view) || m.data.role === 'standby_leader' ? 'standby_leader' : 'leader';
  }
  return syncNames(view).has(m.name.toLowerCase()) ? 'sync_standby' : 'replica';
}

function memberLag(view: ClusterView, m: Member): number | 'unknown' {
  const lsn = m.data.xlog_location;
  if (typeof lsn !== 'number' || !Number.isFinite(lsn)) return 'unknown';
  return Math.max(0, clusterLastLsn(view) - lsn);
}

function summarize(view: ClusterView, m: Member): MemberSummary {
  const role = memberRole(view, m);
  const isLeader = role === 'leader' || role === 'standby_leader';
  const where = connHostPort(m.data.conn_url);
  const d = m.data;
  // Non-leaders show their replication state ("streaming") when they publish one.
  const state = !isLeader && typeof d.replication_state === 'string' ? d.replication_state : String(d.state);
  const timeline = typeof d.timeline === 'number' ? d.timeline : isLeader && clusterTimeline(view) > 0 ? clusterTimeline(view) : undefined;
  return {
    name: m.name,
    role,
    state,
    api_url: d.api_url,
    ...(where ? { host: where.host, port: where.port } : {}),
    ...(timeline !== undefined ? { timeline } : {}),
    ...(isLeader ? {} : { lag: memberLag(view, m) }),
    ...(d.tags && Object.keys(d.tags).length > 0 ? { tags: d.tags } : {}),
    ...(d.pending_restart ? { pending_restart: true } : {}),
    ...(d.pending_restart_reason ? { pending_restart_reason: d.pending_restart_reason } : {}),
    ...(d.scheduled_restart ? { scheduled_restart: d.scheduled_restart } : {}),
  };
}

/** Patroni's /cluster document: members sorted by name, the scope, pause and a scheduled switchover. */
export function clusterSummary(view: ClusterView, scope: string): ClusterSummary {
  const members = [...view.members.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((m) => summarize(view, m));
  const f = view.failover?.value;
  return {
    members,
    scope,
    ...(view.config?.value['pause'] === true ? { pause: true as const } : {}),
    ...(f?.scheduled_at
      ? { scheduled_switchover: { at: f.scheduled_at, ...(f.leader ? { from: f.leader } : {}), ...(f.member ? { to: f.member } : {}) } }
      : {}),
  };
}
