/**
 * The leader's queue of read-index requests (Raft thesis §6.4). A request records the commit
 * index when it arrived; it is answered once a majority of voters has acknowledged a heartbeat
 * carrying its context, which proves this node was still the leader after the request arrived.
 * Confirming a request confirms every earlier one too.
 */
import { majority } from '../quorum/quorum.js';
import type { Raft } from './raft.js';
import { bcastHeartbeat } from './replication.js';
import type { NodeId } from './types.js';

export interface PendingRead {
  readonly ctx: string;
  readonly requester: NodeId;
  readonly index: number;
  readonly acks: Set<NodeId>;
}

export class ReadIndexQueue {
  private pending: PendingRead[] = [];
  private waiting: Array<{ ctx: string; requester: NodeId }> = [];

  /** Held until the leader commits an entry of its own term. */
  wait(ctx: string, requester: NodeId): void {
    this.waiting.push({ ctx, requester });
  }

  takeWaiting(): Array<{ ctx: string; requester: NodeId }> {
    const w = this.waiting;
    this.waiting = [];
    return w;
  }

  add(ctx: string, requester: NodeId, index: number, selfVoter: NodeId | null): void {
    this.pending.push({ ctx, requester, index, acks: new Set(selfVoter === null ? [] : [selfVoter]) });
  }

  /** Context of the newest pending request, carried by periodic heartbeats as a retry. */
  lastCtx(): string | null {
    return this.pending[this.pending.length - 1]?.ctx ?? null;
  }

  /**
   * Records `from`'s acknowledgement of `ctx`; returns the requests now confirmed (in arrival
   * order) and forgets them.
   */
  ack(ctx: string, from: NodeId, voters: readonly NodeId[]): PendingRead[] {
    const at = this.pending.findIndex((p) => p.ctx === ctx);
    if (at < 0 || !voters.includes(from)) return [];
    const req = this.pending[at]!;
    req.acks.add(from);
    const confirmed = voters.filter((v) => req.acks.has(v)).length >= majority(voters.length);
    if (!confirmed) return [];
    return this.pending.splice(0, at + 1);
  }

  clear(): void {
    this.pending = [];
    this.waiting = [];
  }
}

/**
 * Leader side of a read-index request (thesis §6.4); `requester` gets the answer. `lazy`: send no
 * heartbeat round for it; the next periodic heartbeat (which carries the newest pending context)
 * confirms it, within a heartbeat interval. An idle cluster's routine reads then cost no messages.
 */
export function handleReadIndex(r: Raft, ctx: string, requester: NodeId, lazy = false): void {
  const voters = r.voters();
  if (voters.length === 1 && voters[0] === r.id) {
    releaseRead(r, { ctx, requester, index: r.log.committed });
    return;
  }
  if (r.log.term(r.log.committed) !== r.term) {
    // Our commit index may be stale until an entry of our term commits.
    r.reads.wait(ctx, requester);
    return;
  }
  r.reads.add(ctx, requester, r.log.committed, voters.includes(r.id) ? r.id : null);
  if (!lazy) bcastReadHeartbeat(r, ctx);
}

/**
 * A heartbeat to every peer carrying `ctx` (the newest pending read): it can confirm every read
 * waiting so far, so the retry count (Raft.readRetryTicks) starts again.
 */
export function bcastReadHeartbeat(r: Raft, ctx: string): void {
  bcastHeartbeat(r, ctx);
  r.readRetryTicks = 0;
}

/** Hands a confirmed read point to whoever asked: ourselves (a ReadState) or a follower. */
export function releaseRead(r: Raft, req: { ctx: string; requester: NodeId; index: number }): void {
  if (req.requester === r.id) r.readStates.push({ ctx: req.ctx, index: req.index });
  else r.send({ from: r.id, to: req.requester, term: r.term, type: 'read-index-resp', ctx: req.ctx, index: req.index });
}
