/**
 * Reading the cluster through an agent's REST API instead of the DCS (raft mode: the store lives
 * inside the agents, so ctl cannot open it). GET /cluster, /patroni, /config and /history are turned
 * back into the ClusterView the other commands use. What the REST documents do not carry is
 * approximated: absolute WAL positions are rebuilt from the lags (the list shows lags only), and
 * key versions are "0" (ctl never compare-and-sets in raft mode: withDcs refuses).
 */
import type { ClusterView, HistoryLine, Member, MemberData } from '../../dcs/types.js';
import { CtlError } from './errors.js';
import { replyMessage, type RestClient } from './rest.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A stand-in member for RestClient.call when only a base URL is known. */
export function restTarget(name: string, base: string): Member {
  return { name, version: '0', session: null, data: { conn_url: '', api_url: base, state: 'unknown', role: 'unknown', version: '' } };
}

function connUrl(m: Record<string, unknown>): string {
  if (typeof m['host'] !== 'string') return '';
  const host = m['host'].includes(':') ? `[${m['host']}]` : m['host'];
  return `postgres://${host}:${typeof m['port'] === 'number' ? m['port'] : 5432}/postgres`;
}

/** Builds a ClusterView from GET /cluster's document plus the optional /patroni, /config and /history. */
export function viewFromRest(cluster: unknown, patroni: unknown, config: unknown, history: unknown): ClusterView {
  if (!isObject(cluster) || !Array.isArray(cluster['members'])) throw new CtlError('GET /cluster: expected {"members": [...]}');
  const list = cluster['members'].filter(isObject);
  const lags = list.map((m) => (typeof m['lag'] === 'number' ? m['lag'] : 0));
  const top = Math.max(0, ...lags);
  const members = new Map<string, Member>();
  let leader: string | null = null;
  const sync: string[] = [];
  for (const m of list) {
    const name = String(m['name'] ?? '');
    const role = String(m['role'] ?? 'replica');
    const leads = role === 'leader' || role === 'standby_leader';
    if (leads) leader = name;
    if (role === 'sync_standby') sync.push(name);
    const data: MemberData = {
      conn_url: connUrl(m), api_url: String(m['api_url'] ?? ''), state: String(m['state'] ?? 'unknown'),
      role: leads ? (role === 'standby_leader' ? 'standby_leader' : 'master') : 'replica', version: '',
      ...(typeof m['timeline'] === 'number' ? { timeline: m['timeline'] } : {}),
      ...(typeof m['lag'] === 'number' ? { xlog_location: top - m['lag'] } : leads ? { xlog_location: top } : {}),
      ...(isObject(m['tags']) ? { tags: m['tags'] } : {}),
      ...(m['pending_restart'] === true ? { pending_restart: true } : {}),
      ...(isObject(m['scheduled_restart']) ? { scheduled_restart: m['scheduled_restart'] } : {}),
    };
    members.set(name, { name, version: '0', session: null, data });
  }
  const cfg = isObject(config) ? { ...config } : cluster['pause'] === true ? {} : null;
  if (cfg && cluster['pause'] === true) cfg['pause'] = true;
  const sw = isObject(cluster['scheduled_switchover']) ? cluster['scheduled_switchover'] : null;
  const sysid = isObject(patroni) && typeof patroni['database_system_identifier'] === 'string' ? patroni['database_system_identifier'] : null;
  return {
    initialize: sysid !== null ? { value: sysid, version: '0' } : null,
    config: cfg ? { value: cfg, version: '0' } : null,
    leader: leader !== null ? { member: leader, version: '0', session: null } : null,
    members,
    failover: sw ? { value: { scheduled_at: String(sw['at']), ...(typeof sw['from'] === 'string' ? { leader: sw['from'] } : {}), ...(typeof sw['to'] === 'string' ? { member: sw['to'] } : {}) }, version: '0' } : null,
    sync: sync.length > 0 ? { value: { leader, sync_standby: sync.sort() }, version: '0' } : null,
    history: Array.isArray(history) ? { value: history as HistoryLine[], version: '0' } : null,
    failsafe: null,
    status: { optime: top },
    revision: '0',
  };
}

/** GET /cluster (required) and /patroni, /config, /history (best effort) from the agent at `base`. */
export async function readClusterOverRest(rest: RestClient, base: string, scope: string): Promise<ClusterView> {
  const agent = restTarget('local agent', base);
  const cluster = await rest.call(agent, 'GET', '/cluster');
  if (cluster.status !== 200) throw new CtlError(`cannot read cluster ${scope} from the agent at ${base}: GET /cluster answered ${cluster.status}: ${replyMessage(cluster)}`);
  const optional = async (path: string): Promise<unknown> => {
    const r = await rest.call(agent, 'GET', path).catch(() => null);
    return r?.status === 200 ? r.body : null;
  };
  const [patroni, config, history] = await Promise.all([optional('/patroni'), optional('/config'), optional('/history')]);
  return viewFromRest(cluster.body, patroni, config, history);
}
