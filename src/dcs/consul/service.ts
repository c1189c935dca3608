/**
 * `register_service` (dcs-layout.md §1.6): the local database registered with the local Consul
 * agent as service <scope>, id "<scope>/<member>", tagged with its role, so DNS names such as
 * primary.<scope>.service.consul and replica.<scope>.service.consul resolve. An HTTP check on the
 * REST health endpoint for that role (<api>/primary, <api>/replica) lets Consul itself drop a
 * node whose role no longer matches, between two registrations.
 */
import type { ConsulApi, ConsulCaller } from './client.js';

export interface ServiceSettings {
  readonly scope: string;
  readonly member: string;
  readonly tags: readonly string[];
  /** Check interval as Consul reads it, e.g. "5s". */
  readonly checkInterval: string;
  /** A critical service is deregistered by Consul after this long (Patroni: 10 x the session TTL). */
  readonly deregisterAfter: string;
  readonly tlsServerName?: string;
}

/** Role as published in the member record -> [health endpoint, tags]. null: not a servable role. */
export function roleEndpoint(role: string): { path: string; tags: string[] } | null {
  switch (role) {
    // Patroni 3.x writes "master", 4.x "primary": tag both so either DNS name works.
    case 'master': case 'primary': return { path: '/primary', tags: ['master', 'primary'] };
    case 'replica': return { path: '/replica', tags: ['replica'] };
    case 'standby_leader': case 'standby-leader': return { path: '/standby-leader', tags: ['standby-leader'] };
    default: return null;
  }
}

export class ServiceRegistration {
  private registered: string | null = null;

  constructor(private readonly api: ConsulApi, private readonly caller: ConsulCaller, private readonly s: ServiceSettings) {}

  get serviceId(): string { return `${this.s.scope}/${this.s.member}`; }

  /**
   * Register (or re-register with new tags) when the role or addresses changed since the last
   * call; a no-op otherwise. Resolves true when a registration was sent. Rejects with
   * DcsUnavailableError when the agent cannot be reached; throws Error for a role that has no
   * health endpoint or an unparsable URL (naming the value).
   */
  async update(role: string, apiUrl: string, connUrl?: string): Promise<boolean> {
    const ep = roleEndpoint(role);
    if (!ep) throw new Error(`cannot register a Consul service for role ${JSON.stringify(role)}: expected master, primary, replica or standby_leader`);
    const check = new URL(apiUrl); // throws TypeError naming the input for a bad URL
    check.pathname = ep.path;
    const db = connUrl ? new URL(connUrl) : null;
    const body: Record<string, unknown> = {
      name: this.s.scope,
      id: this.serviceId,
      tags: [...this.s.tags, ...ep.tags],
      ...(db ? { address: db.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(db.port || 5432) } : {}),
      check: {
        http: check.toString(),
        interval: this.s.checkInterval,
        deregistercriticalserviceafter: this.s.deregisterAfter,
        ...(this.s.tlsServerName ? { tlsservername: this.s.tlsServerName } : {}),
      },
    };
    const signature = JSON.stringify(body);
    if (signature === this.registered) return false;
    await this.caller.run('service register', (o) => this.api.agent.service.register({ ...o, ...body }));
    this.registered = signature;
    return true;
  }

  /** Remove the registration (if we made one). */
  async deregister(budgetMs?: number): Promise<void> {
    if (this.registered === null) return;
    await this.caller.run('service deregister', (o) => this.api.agent.service.deregister({ ...o, id: this.serviceId }), budgetMs);
    this.registered = null;
  }
}
