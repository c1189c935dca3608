/**
 * Opens the DCS adapter a configuration selects (exactly one of etcd/etcd3, consul, raft).
 *
 * Each adapter module is imported only when selected: the etcd3 client (grpc-js, protobufjs and
 * the compiled etcd protos), the Consul adapter and the embedded Raft node each cost several MiB of
 * heap and their load time, and an agent uses exactly one of them (issue 4: idle footprint).
 */
import { readFileSync } from 'node:fs';
import { dcsKind, etcdHosts, etcdProtocol, etcdSection, type Config } from '../config/index.js';
import type { Dcs } from './port.js';
import type { RaftNodeLogger } from '../raft/node.js';

export interface OpenDcsOptions {
  /** Member name to act as (ctl uses a synthetic one: it never takes the lock). */
  readonly member?: string;
  readonly ttlSeconds: number;
  readonly retryTimeoutSeconds: number;
  readonly onDataWarning?: (key: string, problem: string) => void;
  /** The agent's logger: given only by the agent, which embeds the Raft node in raft mode. */
  readonly log?: RaftNodeLogger;
  /** Renew the lease from a worker thread this often (the agent sets it; ctl does not). */
  readonly keeperIntervalMs?: number;
}

/** Loads the selected adapter's module and opens it. Throws (rejects) naming the section on bad settings. */
export async function openDcs(config: Config, o: OpenDcsOptions): Promise<Dcs> {
  const kind = dcsKind(config);
  const base = {
    namespace: config.namespace,
    scope: config.scope,
    member: o.member ?? config.name,
    ttlSeconds: o.ttlSeconds,
    retryTimeoutMs: o.retryTimeoutSeconds * 1000,
    ...(o.onDataWarning ? { onDataWarning: o.onDataWarning } : {}),
    ...(o.keeperIntervalMs ? { keeperIntervalMs: o.keeperIntervalMs } : {}),
  };
  if (kind === 'etcd3') {
    const section = etcdSection(config)!;
    const read = (p: string | undefined): Buffer | undefined => (p ? readFileSync(p) : undefined);
    const { Etcd3Dcs } = await import('./etcd3/adapter.js');
    return new Etcd3Dcs({
      ...base,
      hosts: etcdHosts(section),
      protocol: etcdProtocol(section),
      ...(section.username ? { username: section.username } : {}),
      ...(section.password ? { password: section.password } : {}),
      ...(section.cacert ? { cacert: read(section.cacert)! } : {}),
      ...(section.cert ? { cert: read(section.cert)! } : {}),
      ...(section.key ? { key: read(section.key)! } : {}),
    });
  }
  if (kind === 'consul') {
    // Session renewals happen on updateLeader/touchMember; the Consul adapter has no keeper thread
    // yet, so keeperIntervalMs is not passed on.
    const { keeperIntervalMs: _noKeeper, ...common } = base;
    const [{ ConsulDcs }, { consulSettings }] = await Promise.all([import('./consul/adapter.js'), import('./consul/config.js')]);
    return new ConsulDcs({ ...common, ...consulSettings(config.consul!) });
  }
  if (kind === 'raft') {
    if (!o.log) throw new Error('the built-in raft DCS runs inside the agent; ctl cannot open it directly yet (use the REST API: GET /cluster)');
    const { openEmbeddedRaft } = await import('./raft/embedded.js');
    return openEmbeddedRaft(config, { ...base, log: o.log });
  }
  throw new Error(`unknown DCS kind ${String(kind)}`);
}
