/**
 * What this member publishes about itself: its state word, its members/<name> record (Patroni's
 * touch_member fields) and, on Consul with register_service, a service tagged with its role.
 * Split from agent.ts; the agent passes its current state in.
 */
import type { Config, EffectiveConfig } from '../config/index.js';
import { parseHostPort } from '../config/index.js';
import type { Dcs } from '../dcs/port.js';
import type { MemberData, MemberTags } from '../dcs/types.js';
import type { PgProbe } from '../postgres/types.js';
import type { RepeatLimiter } from '../util/repeat-limiter.js';
import { VERSION } from '../version.js';
import { memberRecord } from './facts.js';
import type { MonoMs, RunningTask } from './types.js';

/** The member's `state` (Patroni's words): a running job first, then PostgreSQL's condition. */
export function memberState(task: RunningTask | null, crashedAt: MonoMs | null, probe: PgProbe): string {
  if (task?.kind === 'clone' || task?.kind === 'reinit') return 'creating replica';
  if (task?.kind === 'bootstrap') return 'initializing new cluster';
  if (task?.kind === 'rewind') return 'rewinding';
  if (probe.running) return 'running';
  if (crashedAt !== null) return 'crashed';
  return probe.postmasterPid ? 'starting' : 'stopped';
}

/** The members/<name> record; conn_url and api_url are what peers and clients use to reach us. */
export function memberDataOf(config: Config, eff: EffectiveConfig, probe: PgProbe, state: string, pause: boolean): MemberData {
  const pgc = eff.postgresql;
  const connect = parseHostPort(pgc.connect_address);
  const api = config.restapi.connect_address ?? config.restapi.listen;
  const scheme = config.restapi.certfile ? 'https' : 'http';
  return memberRecord({
    probe,
    state,
    connUrl: `postgres://${connect.host.includes(':') ? `[${connect.host}]` : connect.host}:${connect.port}/${pgc.database ?? 'postgres'}`,
    apiUrl: `${scheme}://${api}/patroni`,
    version: VERSION,
    tags: (config.tags ?? {}) as MemberTags,
    pause,
  });
}

/**
 * Consul's register_service: keep the local database registered with a tag for its role, so DNS
 * names like primary.<scope>.service.consul follow the leader. Only adapters that can do it
 * (Consul) expose registerService; the call is repeated only when the role changes.
 */
export class ServiceRegistration {
  private registeredRole: string | null = null;

  constructor(private readonly dcs: Dcs, private readonly limiter: RepeatLimiter) {}

  async update(primary: boolean, probe: PgProbe, member: MemberData): Promise<void> {
    const d = this.dcs as { registerService?: (role: string, apiUrl: string, connUrl?: string) => Promise<boolean> };
    if (typeof d.registerService !== 'function') return;
    const role = !probe.running ? 'stopped' : primary ? 'primary' : 'replica';
    if (role === this.registeredRole || role === 'stopped') return;
    await d.registerService(role, member.api_url, member.conn_url).then(
      () => { this.registeredRole = role; this.limiter.success('service registration'); },
      (e: unknown) => this.limiter.failure('service registration', e instanceof Error ? e.message : String(e)),
    );
  }
}
