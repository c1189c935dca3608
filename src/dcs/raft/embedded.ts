/**
 * The Raft node each agent embeds in QLUSTER mode, built from the config's `raft:` section (Patroni's
 * keys: self_addr, bind_addr, partner_addrs, data_dir; plus QLUSTER timing keys node-timeout and
 * heartbeat-interval). The Raft port listens only on bind_addr, or else self_addr's host -- never on
 * every interface.
 */
import { dirname, join } from 'node:path';
import type { Config } from '../../config/index.js';
import { validateLeaseTtl } from '../../raft/kv/index.js';
import { addressOf, RaftNode, type RaftNodeLogger } from '../../raft/node.js';
import { RaftDcs } from './adapter.js';
import { ClusterKeys } from '../keys.js';
import type { DcsOptions } from '../port.js';

/** "30s", "500ms", "2m" or a number of milliseconds. */
export function parseDurationMs(v: unknown, key: string): number {
  if (typeof v === 'number' && v > 0) return v;
  const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(v) : null;
  if (!m) throw new Error(`raft.${key}: expected a duration such as "1s" or "500ms", got ${JSON.stringify(v)}`);
  const n = Number(m[1]);
  return m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n;
}

/** Where membership jobs live in the replicated KV: "/<namespace>/<scope>/jobs/". */
export function raftJobsPrefix(namespace: string, scope: string): string {
  return `${ClusterKeys.of(namespace, scope).prefix}jobs/`;
}

export interface EmbeddedRaftOptions extends DcsOptions {
  readonly log: RaftNodeLogger;
  readonly onDataWarning?: (key: string, problem: string) => void;
}

export function openEmbeddedRaft(config: Config, o: EmbeddedRaftOptions): RaftDcs {
  const r = config.raft!;
  const extra = r as Record<string, unknown>;
  if (!r.self_addr) throw new Error('raft.self_addr: required: this node\'s Raft address "host:port"');
  const tickMs = 50;
  const electionMs = extra['node-timeout'] !== undefined ? parseDurationMs(extra['node-timeout'], 'node-timeout') : 1000;
  const heartbeatMs = extra['heartbeat-interval'] !== undefined ? parseDurationMs(extra['heartbeat-interval'], 'heartbeat-interval') : 100;
  const ttlError = validateLeaseTtl(o.ttlSeconds * 1000, electionMs);
  if (ttlError) throw new Error(ttlError.message);
  const partners = (Array.isArray(r.partner_addrs) ? r.partner_addrs : String(r.partner_addrs ?? '').split(','))
    .map((s) => String(s).trim()).filter(Boolean);
  const voters = [...new Set([r.self_addr, ...partners])];
  const listen = addressOf(r.bind_addr ?? r.self_addr);
  const dataDir = r.data_dir ?? join(dirname(config.postgresql.data_dir), `raft-${config.name}`);
  const node = new RaftNode({
    id: r.self_addr, listen, voters, dataDir, tickMs,
    electionTicks: Math.max(2, Math.round(electionMs / tickMs)),
    heartbeatTicks: Math.max(1, Math.round(heartbeatMs / tickMs)),
    requestTimeoutMs: o.retryTimeoutMs,
    reconnectBaseMs: 200,
    ...(r.password ? { clusterToken: String(r.password) } : {}),
    // raft.join: true starts a server that an existing cluster adds with POST /raft/peers.
    ...(extra['join'] === true ? { join: true } : {}),
    jobsPrefix: raftJobsPrefix(o.namespace, o.scope),
    log: o.log,
  });
  const started = node.start();
  started.catch((e: unknown) => o.log.error({ err: String(e) }, 'raft node failed to start'));
  return new RaftDcs(node, {
    namespace: o.namespace, scope: o.scope, member: o.member, ttlSeconds: o.ttlSeconds, retryTimeoutMs: o.retryTimeoutMs,
    ...(o.onDataWarning ? { onDataWarning: o.onDataWarning } : {}),
    node,
    onClose: async () => {
      await started.catch(() => undefined);
      await node.handOffLeadership(1000);
      await node.close();
    },
  });
}
