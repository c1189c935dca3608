/**
 * The Raft node each agent embeds in QLUSTER mode, built from the config's `raft:` section
 * (Patroni's keys: self_addr, bind_addr, partner_addrs, data_dir, password; ours: join; and every
 * QLUSTER setting, see config/raft.ts). The Raft port listens only on bind_addr, or else
 * self_addr's host -- never on every interface.
 */
import { dirname, join as join_ } from 'node:path';
import type { Config } from '../../config/index.js';
import { foundingVoters, parseDurationMs as parseDuration, qlusterSettingsOf } from '../../config/raft.js';
import { validateLeaseTtl } from '../../raft/kv/index.js';
import { addressOf, RaftNode, type RaftNodeLogger } from '../../raft/node.js';
import { nodeOptionsFromQluster } from '../../raft/qluster-options.js';
import { RaftDcs } from './adapter.js';
import { ClusterKeys } from '../keys.js';
import type { DcsOptions } from '../port.js';

/** "30s", "500ms", "1m30s" or a number of milliseconds; throws naming raft.<key> otherwise. */
export function parseDurationMs(v: unknown, key: string): number {
  const ms = parseDuration(v);
  if (ms === null || ms <= 0) throw new Error(`raft.${key}: expected a duration such as "1s" or "500ms", got ${JSON.stringify(v)}`);
  return ms;
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
  if (!r.self_addr) throw new Error('raft.self_addr: required: this node\'s Raft address "host:port"');
  const settings = qlusterSettingsOf(r, o.ttlSeconds);
  const ttlError = validateLeaseTtl(o.ttlSeconds * 1000, settings.nodeTimeoutMs);
  if (ttlError) throw new Error(ttlError.message);
  const voters = foundingVoters(r);
  const join = r.join === true;
  const listen = addressOf(r.bind_addr ?? r.self_addr);
  const dataDir = r.data_dir ?? join_(dirname(config.postgresql.data_dir), `raft-${config.name}`);
  const node = new RaftNode({
    id: r.self_addr, listen, voters, dataDir,
    ...nodeOptionsFromQluster(settings, join && voters.length <= 1 ? null : voters.length),
    requestTimeoutMs: o.retryTimeoutMs,
    ...(r.password ? { clusterToken: String(r.password) } : {}),
    // raft.join: true starts a server that an existing cluster adds with POST /raft/peers.
    ...(join ? { join: true } : {}),
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
