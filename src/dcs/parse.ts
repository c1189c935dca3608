/**
 * One snapshot builder for every adapter: a flat list of (relative key, value, version, lease)
 * becomes a ClusterView. Raw DCS data is parsed here and nowhere else. Malformed values of
 * optional keys are dropped with a warning rather than failing the whole read: a garbage
 * `failover` value must not stop the HA loop from seeing the leader key.
 */
import { DcsDataError } from './errors.js';
import * as K from './keys.js';
import type {
  ClusterStatus, ClusterView, FailoverRequest, HistoryLine, Leader, Member, MemberData, SyncState,
  Versioned,
} from './types.js';

export interface RawNode {
  /** Key relative to the cluster prefix, e.g. "leader", "members/node1". */
  readonly key: string;
  readonly value: string;
  readonly version: string;
  readonly lease: string | null;
}

export type ParseWarning = (key: string, problem: string) => void;

function parseJson(key: string, value: string): unknown {
  try {
    return JSON.parse(value);
  } catch (e) {
    throw new DcsDataError(`${key}: value is not JSON: ${JSON.stringify(value.slice(0, 80))}`, { cause: e });
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function parseMemberData(key: string, value: string): MemberData {
  // Legacy readers accept a bare postgres:// URL as the whole record.
  if (value.startsWith('postgres://') || value.startsWith('postgresql://')) {
    return { conn_url: value, api_url: '', state: 'unknown', role: 'replica', version: '' };
  }
  const v = parseJson(key, value);
  if (!isObject(v)) throw new DcsDataError(`${key}: expected a JSON object`);
  return {
    ...v,
    conn_url: typeof v.conn_url === 'string' ? v.conn_url : '',
    api_url: typeof v.api_url === 'string' ? v.api_url : '',
    state: typeof v.state === 'string' ? v.state : 'unknown',
    role: typeof v.role === 'string' ? v.role : 'uninitialized',
    version: typeof v.version === 'string' ? v.version : '',
  } as MemberData;
}

export function parseFailover(key: string, value: string): FailoverRequest {
  const trimmed = value.trim();
  if (trimmed === '') return {};
  if (!trimmed.startsWith('{')) {
    // Legacy "leader:candidate" form.
    const [leader, member] = trimmed.split(':');
    return { ...(leader ? { leader } : {}), ...(member ? { member } : {}) };
  }
  const v = parseJson(key, trimmed);
  if (!isObject(v)) throw new DcsDataError(`${key}: expected a JSON object`);
  const out: { leader?: string; member?: string; scheduled_at?: string } = {};
  if (typeof v.leader === 'string' && v.leader) out.leader = v.leader;
  if (typeof v.member === 'string' && v.member) out.member = v.member;
  if (typeof v.scheduled_at === 'string' && v.scheduled_at) out.scheduled_at = v.scheduled_at;
  return out;
}

export function parseSync(key: string, value: string): SyncState {
  const v = parseJson(key, value);
  if (!isObject(v)) throw new DcsDataError(`${key}: expected a JSON object`);
  const leader = typeof v.leader === 'string' && v.leader ? v.leader : null;
  const raw = v.sync_standby;
  const names = typeof raw === 'string' && raw ? raw.split(',').map((s) => s.trim()).filter(Boolean) : [];
  return { leader, sync_standby: names.sort() };
}

export function serializeSync(s: SyncState): string {
  return JSON.stringify({
    leader: s.leader,
    sync_standby: s.sync_standby.length ? [...s.sync_standby].sort().join(',') : null,
  });
}

export function parseHistory(key: string, value: string): HistoryLine[] {
  const v = parseJson(key, value);
  if (!Array.isArray(v)) throw new DcsDataError(`${key}: expected a JSON list`);
  const out: HistoryLine[] = [];
  for (const line of v) {
    if (!Array.isArray(line) || typeof line[0] !== 'number') continue;
    const [tl, lsn, reason, ts, leader] = line as unknown[];
    out.push([
      tl as number,
      typeof lsn === 'number' ? lsn : Number(lsn) || 0,
      typeof reason === 'string' ? reason : String(reason ?? ''),
      ...(typeof ts === 'string' ? [ts] : []),
      ...(typeof ts === 'string' && typeof leader === 'string' ? [leader] : []),
    ] as unknown as HistoryLine);
  }
  return out;
}

export function parseStatus(key: string, value: string): ClusterStatus {
  const v = parseJson(key, value);
  if (typeof v === 'number') return { optime: v };
  if (!isObject(v)) throw new DcsDataError(`${key}: expected a JSON object`);
  const optime = typeof v.optime === 'number' ? v.optime : Number(v.optime) || 0;
  const slots: Record<string, number> = {};
  if (isObject(v.slots)) for (const [k, n] of Object.entries(v.slots)) if (typeof n === 'number') slots[k] = n;
  return { optime, slots };
}

export function parseFailsafe(key: string, value: string): Record<string, string> {
  const v = parseJson(key, value);
  if (!isObject(v)) throw new DcsDataError(`${key}: expected a JSON object`);
  const out: Record<string, string> = {};
  for (const [k, u] of Object.entries(v)) if (typeof u === 'string') out[k] = u;
  return out;
}

/** Build the view. `warn` is told about each value that had to be dropped. */
export function buildClusterView(nodes: Iterable<RawNode>, revision: string, warn: ParseWarning = () => {}): ClusterView {
  let initialize: Versioned<string> | null = null;
  let config: ClusterView['config'] = null;
  let leader: Leader | null = null;
  let failover: ClusterView['failover'] = null;
  let sync: ClusterView['sync'] = null;
  let history: ClusterView['history'] = null;
  let failsafe: ClusterView['failsafe'] = null;
  let status: ClusterStatus | null = null;
  let legacyOptime: number | null = null;
  const members = new Map<string, Member>();

  for (const n of nodes) {
    try {
      if (n.key.startsWith(K.MEMBERS)) {
        const name = n.key.slice(K.MEMBERS.length);
        if (!name || name.includes('/')) continue;
        members.set(name, { name, version: n.version, session: n.lease, data: parseMemberData(n.key, n.value) });
        continue;
      }
      switch (n.key) {
        case K.INITIALIZE: initialize = { value: n.value, version: n.version }; break;
        case K.LEADER: if (n.value) leader = { member: n.value, version: n.version, session: n.lease }; break;
        case K.CONFIG: {
          const v = parseJson(n.key, n.value);
          if (!isObject(v)) throw new DcsDataError('config: expected a JSON object');
          config = { value: v, version: n.version };
          break;
        }
        case K.FAILOVER: failover = { value: parseFailover(n.key, n.value), version: n.version }; break;
        case K.SYNC: sync = { value: parseSync(n.key, n.value), version: n.version }; break;
        case K.HISTORY: history = { value: parseHistory(n.key, n.value), version: n.version }; break;
        case K.STATUS: status = parseStatus(n.key, n.value); break;
        case K.FAILSAFE: failsafe = parseFailsafe(n.key, n.value); break;
        case K.OPTIME_LEADER: legacyOptime = Number(n.value) || 0; break;
        default: break;
      }
    } catch (e) {
      warn(n.key, e instanceof Error ? e.message : String(e));
    }
  }
  if (!status && legacyOptime !== null) status = { optime: legacyOptime };
  return { initialize, config, leader, members, failover, sync, history, failsafe, status, revision };
}
