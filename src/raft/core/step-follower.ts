/**
 * Follower role: accept the leader's log, vote, and campaign when the leader goes quiet.
 * The handlers here are shared with candidates, which turn follower on hearing a leader.
 */
import type { Raft } from './raft.js';
import type { AppendMessage, HeartbeatMessage, Message, SnapshotMessage } from './types.js';

export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case 'append':
    case 'heartbeat':
    case 'snapshot':
      r.electionElapsed = 0;
      r.lead = m.from;
      handleFromLeader(r, m);
      return;
    case 'timeout-now':
      // Leadership transfer: campaign at once, skipping pre-vote and bypassing peers' leases.
      r.campaign('transfer');
      return;
    // A forwarded read-index or transfer-leader reaching a follower is dropped: forwarding it
    // again could bounce between nodes with stale leader hints. The requester retries.
    case 'read-index-resp':
      r.readStates.push({ ctx: m.ctx, index: m.index });
      return;
    default:
      return;
  }
}

export function handleFromLeader(r: Raft, m: AppendMessage | HeartbeatMessage | SnapshotMessage): void {
  if (m.type === 'append') handleAppend(r, m);
  else if (m.type === 'heartbeat') handleHeartbeat(r, m);
  else handleSnapshot(r, m);
}

function handleAppend(r: Raft, m: AppendMessage): void {
  const ack = (index: number) =>
    r.send({ from: r.id, to: m.from, term: r.term, type: 'append-resp', index, reject: false, hintTerm: 0, hintIndex: 0 });
  if (m.index < r.log.committed) {
    ack(r.log.committed);
    return;
  }
  const res = r.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (res !== null) {
    if (res.conflictFrom !== 0) r.onLogWritten(res.conflictFrom, m.entries);
    ack(res.lastNew);
    return;
  }
  // Reject with a hint for fast back-off (see replication.ts handleRejection).
  const last = r.log.lastIndex();
  const hintTerm = m.index > last ? 0 : (r.log.term(m.index) ?? 0);
  const hintIndex = hintTerm === 0 ? last + 1 : r.log.firstIndexOfTermAt(m.index);
  r.send({ from: r.id, to: m.from, term: r.term, type: 'append-resp', index: m.index, reject: true, hintTerm, hintIndex });
}

function handleHeartbeat(r: Raft, m: HeartbeatMessage): void {
  r.log.commitTo(m.commit);
  r.send({ from: r.id, to: m.from, term: r.term, type: 'heartbeat-resp', ctx: m.ctx });
}

function handleSnapshot(r: Raft, m: SnapshotMessage): void {
  const index = r.restore(m.snapshot) ? r.log.lastIndex() : r.log.committed;
  r.send({ from: r.id, to: m.from, term: r.term, type: 'append-resp', index, reject: false, hintTerm: 0, hintIndex: 0 });
}

/** Follower and candidate tick: campaign when the randomized election timeout runs out. */
export function tickElection(r: Raft): void {
  r.electionElapsed++;
  if (r.electionElapsed >= r.randomizedTimeout && r.promotable()) {
    r.electionElapsed = 0;
    r.campaign(r.cfg.preVote ? 'pre-election' : 'election');
  }
}
