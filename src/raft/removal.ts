/**
 * A removed node, from the driver's side: the error every client call of a removed node fails
 * with, the one ERROR line that tells the operator how to bring it back, and the short-lived
 * transport links a member uses to tell a removed server so.
 *
 * Why links: a member's transport only connects to current members, and a removed server is by
 * definition not one. When the core answers a removed server's (pre-)vote with a 'removed'
 * notice, the driver adds that server as a peer for NOTICE_LINK_MS, long enough to deliver it.
 */
import type { NodeId } from './core/index.js';
import { addressOf } from './peers.js';
import type { PeerAddress } from './transport/index.js';

/** Every client call on a node that was removed from the Raft cluster rejects with this. */
export class RaftRemovedError extends Error {
  constructor(message: string) { super(message); this.name = 'RaftRemovedError'; }
}

/** The operator's fix, in one sentence (also the DCS adapter's error text). */
export function removedText(self: NodeId, dataDir: string): string {
  return `this node was removed from the Raft cluster (raft id ${self}); to bring it back, stop it, wipe its raft data_dir ` +
    `(${dataDir}), start it with raft.join: true, then add it from a member with: ctl raft add ${self}`;
}

/** How long a link opened only to deliver a removal notice stays up. */
export const NOTICE_LINK_MS = 3000;

/** Temporary peers (non-members being told they were removed), each with its expiry time. */
export class NoticeLinks {
  private readonly until = new Map<NodeId, number>();

  /** Records `id` as a notice target until now + NOTICE_LINK_MS; true when it is new. */
  add(id: NodeId, now: number): boolean {
    const fresh = !this.until.has(id);
    this.until.set(id, now + NOTICE_LINK_MS);
    return fresh;
  }

  /** Drops expired targets; true when any was dropped (the transport peers must be re-set). */
  expire(now: number): boolean {
    let changed = false;
    for (const [id, t] of this.until) if (t <= now) { this.until.delete(id); changed = true; }
    return changed;
  }

  /** `members` plus the live notice targets (ids that are not valid addresses are skipped). */
  merge(members: ReadonlyMap<NodeId, PeerAddress>): Map<NodeId, PeerAddress> {
    const out = new Map(members);
    for (const id of this.until.keys()) {
      if (out.has(id)) continue;
      try { out.set(id, addressOf(id)); } catch { /* not an address: nothing to connect to */ }
    }
    return out;
  }
}
