/**
 * Peer addresses and the GET /raft description: the pure helpers of the Raft node driver.
 * A peer's id is its Raft address "host:port" ("[v6]:port" for IPv6).
 */
import type { NodeId, Status } from './core/index.js';
import type { PeerAddress } from './transport/index.js';

/** "host:port" (IPv6 as "[::1]:port") -> address; throws naming the id when it is not one. */
export function addressOf(id: NodeId): PeerAddress {
  const i = id.lastIndexOf(':');
  const host = id.slice(0, i).replace(/^\[|\]$/g, '');
  const port = Number(id.slice(i + 1));
  if (i <= 0 || host === '' || !Number.isInteger(port) || port < 1 || port > 65535 || /\s/.test(id)) {
    throw new Error(`raft peer ${JSON.stringify(id)}: expected "host:port" with a port from 1 to 65535`);
  }
  return { host, port };
}

/** The transport peer map for a membership: every id except `self`. */
export function peerMap(self: NodeId, ids: readonly NodeId[]): Map<NodeId, PeerAddress> {
  return new Map(ids.filter((v) => v !== self).map((v) => [v, addressOf(v)] as const));
}

/** GET /raft's body. Match index and last contact are known only on the leader (null elsewhere). */
export interface RaftDescription {
  readonly id: NodeId;
  readonly role: string;
  readonly term: number;
  readonly leader: NodeId | null;
  /** The commit index. */
  readonly commit: number;
  readonly applied_index: number;
  readonly last_index: number;
  /** True once this node knows it was removed from the cluster (it then serves no client call). */
  readonly removed: boolean;
  readonly peers: ReadonlyArray<{
    readonly id: NodeId; readonly role: 'voter' | 'learner'; readonly is_leader: boolean;
    readonly match_index: number | null; readonly last_contact_ms: number | null;
  }>;
  /** This node's Raft messages and forwarded requests since it started (added by the node). */
  readonly traffic?: {
    readonly messages_sent: number; readonly messages_received: number;
    readonly requests_sent: number; readonly requests_served: number;
  };
}

/** GET /raft from the core's status; `tickMs` turns the leader's silent ticks into milliseconds. */
export function describeStatus(st: Status, applied: number, tickMs: number): RaftDescription {
  const ids = [...new Set([...st.confState.voters, ...st.confState.learners])].sort();
  const progress = new Map(st.peers.map((p) => [p.id, p] as const));
  return {
    id: st.id, role: st.role, term: st.term, leader: st.lead, commit: st.commit, applied_index: applied, last_index: st.lastIndex, removed: st.removed,
    peers: ids.map((id) => {
      const pr = progress.get(id);
      return {
        id, role: st.confState.learners.includes(id) ? 'learner' as const : 'voter' as const, is_leader: id === st.lead,
        match_index: pr ? pr.match : null,
        last_contact_ms: pr ? (id === st.id ? 0 : pr.silentTicks * tickMs) : null,
      };
    }),
  };
}
