/**
 * Leader-side log replication: what to send each follower and how to react to its answers.
 * Flow control follows tracker/progress.ts (probe, replicate, snapshot).
 */
import type { Progress } from '../tracker/progress.js';
import type { Raft } from './raft.js';
import type { AppendRespMessage, NodeId } from './types.js';

/**
 * Sends `to` the entries it needs next, or a snapshot when they were compacted. With
 * `sendIfEmpty` false nothing is sent when there are no new entries. Returns whether a message
 * went out.
 */
export function maybeSendAppend(r: Raft, to: NodeId, sendIfEmpty = true): boolean {
  const pr = r.progress.get(to);
  if (pr === undefined || to === r.id || pr.isPaused()) return false;
  const prevIndex = pr.next - 1;
  const prevTerm = r.log.term(prevIndex);
  const entries = r.log.entries(pr.next, pr.next + r.cfg.maxEntriesPerAppend);
  if (prevTerm === null || entries === null) return sendSnapshot(r, to, pr);
  if (entries.length === 0 && !sendIfEmpty) return false;
  r.send({ from: r.id, to: to, term: r.term, type: 'append', index: prevIndex, logTerm: prevTerm, entries, commit: r.log.committed });
  pr.sentAppend(entries.length > 0 ? entries[entries.length - 1]!.index : null);
  return true;
}

function sendSnapshot(r: Raft, to: NodeId, pr: Progress): boolean {
  const snapshot = r.log.snapshot();
  // The storage contract guarantees a snapshot covering every compacted entry.
  if (snapshot.index < pr.next - 1 || snapshot.index === 0) return false;
  r.send({ from: r.id, to: to, term: r.term, type: 'snapshot', snapshot });
  pr.becomeSnapshot(snapshot.index);
  return true;
}

export function bcastAppend(r: Raft): void {
  for (const id of r.peers()) maybeSendAppend(r, id);
}

/** Heartbeats carry min(match, commit): a follower may only commit what it is known to hold. */
export function bcastHeartbeat(r: Raft, ctx: string | null): void {
  sendHeartbeats(r, r.peers(), ctx);
}

/** Heartbeats to `ids` only (the leader's tick: the peers it sent nothing for an interval). */
export function sendHeartbeats(r: Raft, ids: readonly NodeId[], ctx: string | null): void {
  for (const id of ids) {
    const pr = r.progress.get(id)!;
    r.send({ from: r.id, to: id, term: r.term, type: 'heartbeat', commit: Math.min(pr.match, r.log.committed), ctx });
  }
}

export function sendTimeoutNow(r: Raft, to: NodeId): void {
  r.send({ from: r.id, to: to, term: r.term, type: 'timeout-now' });
}

/** Leader: a follower answered an append or snapshot. */
export function handleAppendResp(r: Raft, pr: Progress, m: AppendRespMessage): void {
  if (m.reject) {
    handleRejection(r, pr, m);
    return;
  }
  if (!pr.maybeUpdate(m.index)) return;
  if (pr.state === 'probe' || (pr.state === 'snapshot' && pr.match >= pr.pendingSnapshot)) pr.becomeReplicate();
  if (!r.maybeCommit()) {
    // Stream whatever else the follower lacks (several batches in replicate state).
    while (maybeSendAppend(r, m.from, false)) {
      if (pr.state !== 'replicate') break;
    }
  }
  if (r.role !== 'leader') return; // a committed self-removal may have made us step down
  if (m.from === r.leadTransferee && pr.match === r.log.lastIndex()) sendTimeoutNow(r, m.from);
  maybePromoteLearner(r, m.from, pr);
}

/**
 * Fast back-off (thesis §5.3 optimisation): the follower names the term of its conflicting
 * entry and the first index it holds of that term. If we hold that term too, resume after our
 * last entry of it; otherwise skip the follower's whole run of that term.
 */
function handleRejection(r: Raft, pr: Progress, m: AppendRespMessage): void {
  // Ignore rejections of appends older than what we already know.
  const stale = pr.state === 'replicate' ? m.index <= pr.match : pr.state === 'snapshot' || m.index !== pr.next - 1;
  if (stale) return;
  let next = m.hintIndex;
  if (m.hintTerm !== 0) {
    let i = Math.min(m.index, r.log.lastIndex());
    let t = r.log.term(i);
    while (t !== null && t > m.hintTerm && i > 0) t = r.log.term(--i);
    if (t === m.hintTerm) next = i + 1;
  }
  pr.becomeProbe();
  pr.next = Math.max(pr.match + 1, Math.min(next, m.index));
  maybeSendAppend(r, m.from);
}

/**
 * A learner close enough to the leader's log becomes a voter: the leader proposes it itself,
 * once the learner holds at least the entry that added it and no other change is pending.
 */
function maybePromoteLearner(r: Raft, id: NodeId, pr: Progress): void {
  const window = r.cfg.promotionWindow;
  if (window === null || !pr.isLearner || r.confPending() || r.leadTransferee !== null) return;
  if (pr.match + window < r.log.lastIndex() || pr.match < r.confs.learnerSince(id)) return;
  const res = r.proposeConfChange({ kind: 'promote', node: id });
  if (res.accepted) r.events.push({ kind: 'learner-promotion-proposed', node: id, index: res.index });
}
