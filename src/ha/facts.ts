/**
 * Gathering what decide() needs besides the DCS view: the peers' answers during a leader race, and
 * this member's record / status in Patroni's formats. I/O lives here, not in the rules.
 */
import type { ClusterView, MemberData, MemberTags } from '../dcs/types.js';
import type { PgProbe } from '../postgres/types.js';
import type { FailsafePoster } from './failsafe.js';
import type { PeerStatus } from './types.js';

/**
 * GET <api_url> of every other member, in parallel, `timeoutMs` each; null = unreachable.
 * `extra` (name -> api_url) adds members known only from /failsafe (failsafe mode): a primary cut
 * off from the DCS loses its member key, yet must still be seen alive by the race.
 */
export async function fetchPeers(view: ClusterView, me: string, timeoutMs = 2000, extra: Readonly<Record<string, string>> | null = null): Promise<Map<string, PeerStatus | null>> {
  const urls = new Map<string, string>();
  for (const [name, url] of Object.entries(extra ?? {})) urls.set(name, url);
  for (const m of view.members.values()) urls.set(m.name, m.data.api_url);
  urls.delete(me);
  const out = new Map<string, PeerStatus | null>();
  await Promise.all([...urls].map(async ([name, url]) => { out.set(name, await fetchPeer(name, url, timeoutMs)); }));
  return out;
}

/**
 * POST /failsafe over HTTP(S) with fetch, JSON body, Basic credentials when the peers' REST API
 * needs them (Patroni: ctl.authentication, else restapi.authentication). The timeout covers the
 * whole exchange including the body.
 */
export function httpFailsafePoster(auth: { readonly username: string; readonly password: string } | null): FailsafePoster {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (auth) headers['authorization'] = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  return async (url, body, timeoutMs) => {
    // AbortSignal.timeout takes whole milliseconds only.
    const signal = AbortSignal.timeout(Math.max(1, Math.floor(timeoutMs)));
    const r = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal });
    return { status: r.status, text: await r.text() };
  };
}

export async function fetchPeer(name: string, apiUrl: string, timeoutMs: number): Promise<PeerStatus | null> {
  if (!apiUrl) return null;
  try {
    const r = await fetch(apiUrl, { signal: AbortSignal.timeout(timeoutMs) });
    const j = (await r.json()) as Record<string, unknown>;
    const xlog = (j.xlog ?? {}) as Record<string, unknown>;
    const num = (v: unknown) => (typeof v === 'number' ? v : 0);
    const role = typeof j.role === 'string' ? j.role : 'unknown';
    const primary = role === 'master' || role === 'primary';
    return {
      name,
      role,
      state: typeof j.state === 'string' ? j.state : 'unknown',
      walPosition: primary ? num(xlog.location) : Math.max(num(xlog.received_location), num(xlog.replayed_location)),
      timeline: typeof j.timeline === 'number' ? j.timeline : null,
      tags: (j.tags ?? {}) as MemberTags,
      inRecovery: !primary,
    };
  } catch {
    return null;
  }
}

export type PgRole = 'master' | 'replica' | 'uninitialized';

export function pgRole(p: PgProbe): PgRole {
  if (p.dataDir !== 'initialized') return 'uninitialized';
  if (p.running) return p.inRecovery ? 'replica' : 'master';
  return p.standbySignal ? 'replica' : 'master';
}

export interface MemberInputs {
  readonly probe: PgProbe;
  readonly state: string;
  readonly connUrl: string;
  readonly apiUrl: string;
  readonly version: string;
  readonly tags: MemberTags;
  readonly pause: boolean;
}

/** The members/<name> record (Patroni's touch_member fields). */
export function memberRecord(i: MemberInputs): MemberData {
  const p = i.probe;
  const role = pgRole(p);
  const tags = Object.fromEntries(Object.entries(i.tags).filter(([, v]) => v !== false && v !== undefined && v !== null));
  return {
    conn_url: i.connUrl,
    api_url: i.apiUrl,
    state: i.state,
    role,
    version: i.version,
    ...(p.running && p.walPosition !== null ? { xlog_location: p.walPosition } : {}),
    ...(p.running && p.timeline !== null ? { timeline: p.timeline } : {}),
    ...replicationState(p),
    ...(Object.keys(tags).length ? { tags: tags as MemberTags } : {}),
    ...(p.pendingRestart.length ? { pending_restart: true } : {}),
    ...(i.pause ? { pause: true } : {}),
  };
}

/**
 * A standby's replication_state as Patroni (3.0.4+) reports it: 'streaming' only while its WAL
 * receiver streams, else 'in archive recovery'. A primary has none. Having an upstream configured
 * is not enough: a standby that cannot follow its upstream's timeline has one and streams nothing.
 */
export function replicationState(p: PgProbe): { replication_state?: string } {
  if (!p.running || !p.inRecovery) return {};
  return { replication_state: p.walReceiver === 'streaming' ? 'streaming' : 'in archive recovery' };
}
