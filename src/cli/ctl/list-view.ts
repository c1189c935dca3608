/**
 * What `ctl list` and `ctl topology` show, computed from a ClusterView: patronictl's columns
 * (Cluster, Member, Host, Role, State, TL, Lag in MB), title and footers. Roles and lag come from
 * api/cluster-json.ts, the same code as GET /cluster.
 */
import { clusterSummary, type ClusterRole, type MemberSummary } from '../../api/cluster-json.js';
import type { ClusterView } from '../../dcs/types.js';
import type { Cell, Table } from './table.js';

export const ROLE_TITLES: Readonly<Record<ClusterRole, string>> = {
  leader: 'Leader', standby_leader: 'Standby Leader', sync_standby: 'Sync Standby', replica: 'Replica',
};

/** " Cluster: demo (7000...) ", with "uninitialized" / "initializing" when there is no system id yet. */
export function clusterTitle(view: ClusterView, scope: string): string {
  const init = view.initialize;
  const id = init === null ? 'uninitialized' : init.value === '' ? 'initializing' : init.value;
  return ` Cluster: ${scope} (${id}) `;
}

/** Lag in MB as patronictl shows it: rounded MiB, "unknown", or blank for the leader. */
export function lagInMb(m: MemberSummary): Cell {
  if (m.lag === undefined) return '';
  if (m.lag === 'unknown') return 'unknown';
  return Math.round(m.lag / (1024 * 1024));
}

/** Hosts show their port when any port is not 5432 or two members share a host. */
function hostColumn(members: readonly MemberSummary[]): (m: MemberSummary) => string {
  const hosts = members.map((m) => m.host).filter((h): h is string => h !== undefined);
  const withPort = members.some((m) => m.port !== undefined && m.port !== 5432) || new Set(hosts).size !== hosts.length;
  return (m) => (m.host === undefined ? '' : withPort && m.port !== undefined ? `${m.host}:${m.port}` : m.host);
}

export interface ListOptions {
  /** -e/--extended: always show Pending restart, Scheduled restart and Tags. */
  readonly extended?: boolean;
  /** topology: indent members under their upstream. */
  readonly topology?: boolean;
}

/** Orders members for topology: each member follows its upstream (replicatefrom tag, else the leader). */
function topologyOrder(members: readonly MemberSummary[]): Array<{ m: MemberSummary; depth: number }> {
  const byName = new Map(members.map((m) => [m.name, m]));
  const leader = members.find((m) => m.role === 'leader' || m.role === 'standby_leader');
  const upstream = (m: MemberSummary): string | undefined => {
    if (m === leader) return undefined;
    const from = m.tags?.['replicatefrom'];
    return typeof from === 'string' && byName.has(from) && from !== m.name ? from : leader?.name;
  };
  const out: Array<{ m: MemberSummary; depth: number }> = [];
  const placed = new Set<string>();
  const visit = (m: MemberSummary, depth: number): void => {
    if (placed.has(m.name)) return;
    placed.add(m.name);
    out.push({ m, depth });
    for (const child of members) if (upstream(child) === m.name) visit(child, depth + 1);
  };
  if (leader) visit(leader, 0);
  for (const m of members) visit(m, 0); // orphans and cycles still appear, at the top level
  return out;
}

/** The list table for a cluster (all formats). */
export function listTable(view: ClusterView, scope: string, o: ListOptions = {}): Table {
  const summary = clusterSummary(view, scope);
  const host = hostColumn(summary.members);
  const showPending = o.extended || summary.members.some((m) => m.pending_restart);
  const showScheduled = o.extended || summary.members.some((m) => m.scheduled_restart);
  const showTags = o.extended || summary.members.some((m) => m.tags);
  const columns = ['Cluster', 'Member', 'Host', 'Role', 'State', 'TL', 'Lag in MB'];
  if (showPending) columns.push('Pending restart');
  if (showScheduled) columns.push('Scheduled restart');
  if (showTags) columns.push('Tags');
  const ordered = o.topology ? topologyOrder(summary.members) : summary.members.map((m) => ({ m, depth: 0 }));
  const rows = ordered.map(({ m, depth }) => {
    const name = depth === 0 ? m.name : `${'  '.repeat(depth - 1)}+ ${m.name}`;
    const row: Cell[] = [scope, name, host(m), ROLE_TITLES[m.role], m.state, m.timeline ?? '', lagInMb(m)];
    if (showPending) row.push(m.pending_restart ? '*' : '');
    if (showScheduled) row.push(typeof m.scheduled_restart?.['schedule'] === 'string' ? m.scheduled_restart['schedule'] : '');
    if (showTags) row.push(m.tags ? JSON.stringify(m.tags) : '');
    return row;
  });
  return { columns, rows, title: clusterTitle(view, scope), alignRight: ['TL', 'Lag in MB'] };
}

/** Lines printed under the pretty table: maintenance mode and a scheduled switchover. */
export function listFooter(view: ClusterView, scope: string): string[] {
  const s = clusterSummary(view, scope);
  const lines: string[] = [];
  if (s.pause) lines.push(' Maintenance mode: on');
  if (s.scheduled_switchover) {
    const sw = s.scheduled_switchover;
    lines.push(` Switchover scheduled at: ${sw.at}`);
    if (sw.from) lines.push(`                    from: ${sw.from}`);
    if (sw.to) lines.push(`                      to: ${sw.to}`);
  }
  return lines;
}
