/**
 * Leader role: replicate, commit, heartbeat, check quorum, serve read-index, transfer
 * leadership, and the automatic membership duties (learner promotion, autoremove).
 */
import { hasMajority } from '../quorum/quorum.js';
import type { Raft } from './raft.js';
import { bcastReadHeartbeat, handleReadIndex, releaseRead } from './read-index.js';
import { handleAppendResp, maybeSendAppend, sendHeartbeats, sendTimeoutNow } from './replication.js';
import type { Message, NodeId } from './types.js';

export function stepLeader(r: Raft, m: Message): void {
  const pr = r.progress.get(m.from);
  if (pr !== undefined && m.term !== 0) {
    pr.recentActive = true;
    pr.silentTicks = 0;
  }
  switch (m.type) {
    case 'append-resp':
      if (pr !== undefined) handleAppendResp(r, pr, m);
      return;
    case 'heartbeat-resp':
      if (pr === undefined) return;
      if (pr.state === 'probe') pr.paused = false;
      if (pr.match < r.log.lastIndex()) maybeSendAppend(r, m.from);
      if (m.ctx !== null) for (const req of r.reads.ack(m.ctx, m.from, r.voters())) releaseRead(r, req);
      return;
    case 'read-index':
      if (pr !== undefined) handleReadIndex(r, m.ctx, m.from);
      return;
    case 'transfer-leader':
      if (pr !== undefined) startTransfer(r, m.target);
      return;
    default:
      return;
  }
}

/**
 * Starts moving leadership to `target`: catch it up, then send TimeoutNow. Proposals are refused
 * meanwhile; the attempt is abandoned after an election timeout. Returns a sentence for the caller.
 */
export function startTransfer(r: Raft, target: NodeId): { started: boolean; detail: string } {
  if (target === r.id) return { started: false, detail: `${target} is already the leader` };
  if (!r.voters().includes(target)) return { started: false, detail: `${target} is not a voter` };
  if (r.leadTransferee === target) return { started: true, detail: `transfer to ${target} already in progress` };
  r.abortTransfer(`superseded by a transfer to ${target}`);
  r.leadTransferee = target;
  r.transferElapsed = 0;
  r.events.push({ kind: 'transfer-started', target });
  const pr = r.progress.get(target)!;
  if (pr.match === r.log.lastIndex()) sendTimeoutNow(r, target);
  else maybeSendAppend(r, target);
  return { started: true, detail: `transferring leadership to ${target}` };
}

export function tickLeader(r: Raft): void {
  r.electionElapsed++;
  const peers = r.peers();
  for (const id of peers) {
    r.progress.get(id)!.idleTicks++;
    retryStalled(r, id);
  }
  if (r.leadTransferee !== null && ++r.transferElapsed >= r.cfg.electionTicks) {
    r.abortTransfer(`not completed within ${r.cfg.electionTicks} ticks`);
  }
  if (r.electionElapsed >= r.cfg.electionTicks) {
    r.electionElapsed = 0;
    if (r.cfg.checkQuorum && !checkQuorum(r)) return;
  }
  // A heartbeat goes only to a peer the leader sent nothing for a heartbeat interval: a
  // read-index round or an append already reset its election timer (issue 4: idle cost). But
  // appends confirm no read: while reads wait (a lazy one, or one whose acknowledgements were
  // lost), every peer gets a heartbeat carrying the newest context at least once an interval.
  const due = peers.filter((id) => r.progress.get(id)!.idleTicks >= r.cfg.heartbeatTicks);
  const ctx = r.reads.lastCtx();
  if (ctx === null) r.readRetryTicks = 0;
  else r.readRetryTicks++;
  if (ctx !== null && (r.readRetryTicks >= r.cfg.heartbeatTicks || due.length === peers.length)) {
    bcastReadHeartbeat(r, ctx);
  } else if (due.length > 0) {
    sendHeartbeats(r, due, ctx);
  }
  maybeAutoremove(r);
}

/** Check-quorum: steps down unless a majority of voters was heard from since the last check. */
function checkQuorum(r: Raft): boolean {
  const active = hasMajority(r.voters(), (id) => id === r.id || r.progress.get(id)?.recentActive === true);
  for (const [id, pr] of r.progress) if (id !== r.id) pr.recentActive = false;
  if (!active) {
    r.becomeFollower(r.term, null, `check-quorum: no majority heard from within ${r.cfg.electionTicks} ticks`);
    return false;
  }
  return true;
}

/** replication-retry-interval: resend to a follower whose progress stalled (message lost). */
function retryStalled(r: Raft, id: NodeId): void {
  const pr = r.progress.get(id)!;
  pr.silentTicks++;
  pr.ticksSinceSend++;
  if (pr.ticksSinceSend < r.cfg.replicationRetryTicks) return;
  if (pr.state === 'probe' && pr.paused) {
    // Resend the same probe: resetting `next` to match + 1 would, for a follower whose match is
    // still unknown (0), fall back to index 1 and force a needless snapshot.
    pr.paused = false;
  } else if (pr.state === 'snapshot' || (pr.state === 'replicate' && pr.match < pr.next - 1)) {
    pr.becomeProbe();
  } else {
    return;
  }
  maybeSendAppend(r, id);
}

/**
 * Autoremove (QLUSTER): propose removing the voter silent longest, once it has been silent for
 * afterTicks, while more than minimumVoters voters remain and no other change is pending.
 */
function maybeAutoremove(r: Raft): void {
  const ar = r.cfg.autoremove;
  if (ar === null || r.role !== 'leader' || r.confPending() || r.leadTransferee !== null) return;
  const voters = r.voters();
  if (voters.length <= ar.minimumVoters) return;
  let victim: NodeId | null = null;
  let silent = -1;
  for (const v of [...voters].sort()) {
    const s = v === r.id ? -1 : (r.progress.get(v)?.silentTicks ?? -1);
    if (s >= ar.afterTicks && s > silent) {
      victim = v;
      silent = s;
    }
  }
  if (victim === null) return;
  const res = r.proposeConfChange({ kind: 'remove', node: victim });
  if (res.accepted) r.events.push({ kind: 'autoremove-proposed', node: victim, silentTicks: silent, index: res.index });
}
