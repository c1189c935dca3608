/**
 * The Raft state machine: state, named role transitions, the term rules shared by every role,
 * elections and commit. Role-specific handling lives in step-follower.ts, step-candidate.ts and
 * step-leader.ts, plugged in as `stepFn`/`tickFn` by the become* transitions.
 *
 * Safety invariants protected here: one vote per term (persisted via HardState before the vote
 * is sent, by the Ready contract); a leader commits by counting only entries of its own term
 * (Raft §5.4.2); at most one uncommitted membership change at a time.
 */
import { applyConfChange, encodeConfChange } from '../confchange/confchange.js';
import { committedIndex, voteResult, type VoteResult } from '../quorum/quorum.js';
import { Progress } from '../tracker/progress.js';
import { ConfHistory } from './conf-history.js';
import { resolveConfig, type RaftConfig, type ResolvedConfig } from './config.js';
import { InvariantError } from './errors.js';
import { RaftLog } from './log.js';
import { bcastReadHeartbeat, handleReadIndex, ReadIndexQueue } from './read-index.js';
import { bcastAppend, sendTimeoutNow } from './replication.js';
import { stepCandidate } from './step-candidate.js';
import { stepFollower, tickElection } from './step-follower.js';
import { stepLeader, tickLeader } from './step-leader.js';
import type {
  ConfChange,
  ConfState,
  EntryType,
  Message,
  NodeId,
  ProposeResult,
  RaftEvent,
  ReadState,
  Role,
  Snapshot,
  VoteMessage,
} from './types.js';

export type CampaignKind = 'pre-election' | 'election' | 'transfer';
const EMPTY = new Uint8Array(0);

/** Ticks between the campaigns of followers that lost the same leader's link (see leaderDisconnected). */
const DISCONNECT_STAGGER = 3;

export class Raft {
  readonly id: NodeId;
  readonly cfg: ResolvedConfig;
  readonly log: RaftLog;
  readonly confs: ConfHistory;
  term = 0;
  vote: NodeId | null = null;
  lead: NodeId | null = null;
  role: Role = 'follower';
  /** The leader's view of every member (maintained on all nodes, meaningful on the leader). */
  progress = new Map<NodeId, Progress>();
  votes = new Map<NodeId, boolean>();
  electionElapsed = 0;
  /** Leader: ticks since the last heartbeat to every peer carrying the newest pending read context. */
  readRetryTicks = 0;
  randomizedTimeout = 0;
  leadTransferee: NodeId | null = null;
  transferElapsed = 0;
  readonly reads = new ReadIndexQueue();
  msgs: Message[] = [];
  readStates: ReadState[] = [];
  events: RaftEvent[] = [];
  /** Set when a member told us we are not in its committed configuration (at `index`). */
  removedNotice: { readonly by: NodeId; readonly index: number } | null = null;
  /** Whether the 'removed' event was already reported for the current removal. */
  private removedReported = false;
  stepFn: (r: Raft, m: Message) => void = stepFollower;
  tickFn: (r: Raft) => void = tickElection;

  constructor(config: RaftConfig) {
    this.cfg = resolveConfig(config);
    this.id = this.cfg.id;
    const storage = this.cfg.storage;
    const hs = storage.initialState();
    const snap = storage.snapshot();
    this.log = new RaftLog(storage, hs.commit, this.cfg.applied);
    this.confs = new ConfHistory(snap.index, snap.confState);
    // Rebuild membership from conf-change entries persisted after the snapshot.
    const stored = storage.lastIndex() > snap.index ? this.log.entries(snap.index + 1, storage.lastIndex() + 1) : [];
    if (stored === null) throw new InvariantError(`storage lost entries after snapshot ${snap.index}`);
    this.confs.onAppend(snap.index + 1, stored);
    this.term = hs.term;
    this.vote = hs.vote;
    this.becomeFollower(hs.term, null);
  }

  send(m: Message): void {
    this.msgs.push(m);
    if (this.role === 'leader') {
      const pr = this.progress.get(m.to);
      if (pr !== undefined) pr.idleTicks = 0;
    }
  }

  voters(): readonly NodeId[] {
    return this.confs.current().voters;
  }

  /** Peers we replicate to, in a stable order (sorted ids) so runs are reproducible. */
  peers(): NodeId[] {
    return [...this.progress.keys()].filter((id) => id !== this.id).sort();
  }

  /** Can this node campaign? Only voters, and not while a received snapshot is unpersisted. */
  promotable(): boolean {
    return this.voters().includes(this.id) && this.log.unstableSnapshot() === null && this.removedNotice === null;
  }

  /**
   * Whether this node knows it is no longer a member: it was told so (removedNotice), or its own
   * committed, non-empty configuration lacks it although an earlier one it holds included it. (A
   * joining server catching up replays configurations from before its addition: it was never in
   * them, and is not "removed".)
   */
  isRemoved(): boolean {
    if (this.removedNotice !== null) return true;
    const conf = this.confs.current();
    const members = conf.voters.length + conf.learners.length;
    return members > 0 && !this.isMember(this.id) && !this.confPending() && this.confs.everIncluded(this.id);
  }

  isMember(id: NodeId): boolean {
    const conf = this.confs.current();
    return conf.voters.includes(id) || conf.learners.includes(id);
  }

  /** Reports a removal once (an event for the driver); re-armed when we are a member again. */
  private reportRemoval(by: NodeId | null, index: number): void {
    if (this.removedReported) return;
    this.removedReported = true;
    this.events.push({ kind: 'removed', by, index });
  }

  /**
   * A (pre-)vote from a server that our committed configuration lacks: tell it it was removed.
   * Only a member with a committed configuration speaks, and the candidate believes the notice
   * only when it names a configuration newer than its own, so a server being added (present in
   * an uncommitted entry) is never told so wrongly. The vote itself is still answered by the usual
   * rules (Raft votes regardless of configuration): this node may be the one out of date, with a
   * configuration from before the candidate was added, and withholding its vote then could leave
   * the cluster without a quorum of voters willing to elect anyone (simulation seed 9497). A
   * candidate truly removed cannot win anyway: a voter holding its removal has the newer log.
   */
  private answerNonMember(m: Message): void {
    if (m.type !== 'vote' && m.type !== 'pre-vote') return;
    const conf = this.confs.current();
    if (conf.voters.length === 0 || this.isMember(m.from) || !this.isMember(this.id) || this.confPending()) return;
    this.send({ from: this.id, to: m.from, term: 0, type: 'removed', confIndex: this.confs.lastIndex() });
  }

  /** Believe a removal notice only from a configuration newer than ours that lacks us. */
  private handleRemovedNotice(by: NodeId, confIndex: number): void {
    if (this.removedNotice !== null || confIndex <= this.confs.lastIndex()) return;
    this.removedNotice = { by, index: confIndex };
    if (this.role !== 'follower') this.becomeFollower(this.term, null, 'removed from the cluster');
    this.reportRemoval(by, confIndex);
  }

  // ---- transitions -------------------------------------------------------------------------

  /** `reason` is reported in a stepped-down event when a leader steps down. */
  becomeFollower(term: number, lead: NodeId | null, reason?: string): void {
    const wasLeader = this.role === 'leader';
    this.reset(term);
    this.stepFn = stepFollower;
    this.tickFn = tickElection;
    this.lead = lead;
    this.role = 'follower';
    this.resetRandomizedTimeout(this.cfg.electionTicks);
    if (wasLeader) this.events.push({ kind: 'stepped-down', term: this.term, reason: reason ?? (lead === null ? `saw term ${term}` : `new leader ${lead}`) });
  }

  becomePreCandidate(): void {
    if (this.role === 'leader') throw new InvariantError('invalid transition [leader -> pre-candidate]');
    // Pre-vote changes neither term nor vote (thesis §9.6): a node that cannot win disturbs nobody.
    this.stepFn = stepCandidate;
    this.tickFn = tickElection;
    this.votes = new Map();
    this.lead = null;
    this.role = 'pre-candidate';
    this.resetRandomizedTimeout(this.cfg.preVoteTicks);
  }

  becomeCandidate(): void {
    if (this.role === 'leader') throw new InvariantError('invalid transition [leader -> candidate]');
    this.reset(this.term + 1);
    this.stepFn = stepCandidate;
    this.tickFn = tickElection;
    this.vote = this.id;
    this.role = 'candidate';
    this.resetRandomizedTimeout(this.cfg.leaderVotingTicks);
  }

  becomeLeader(): void {
    if (this.role === 'follower') throw new InvariantError('invalid transition [follower -> leader]');
    this.reset(this.term);
    this.stepFn = stepLeader;
    this.tickFn = tickLeader;
    this.lead = this.id;
    this.role = 'leader';
    this.events.push({ kind: 'became-leader', term: this.term });
    // Raft §5.4.2 / §6.4: an entry of the new term lets earlier entries commit and read-index work.
    this.appendEntries([{ type: 'noop', data: EMPTY }]);
  }

  private reset(term: number): void {
    if (term !== this.term) {
      this.term = term;
      this.vote = null;
    }
    this.lead = null;
    this.electionElapsed = 0;
    this.readRetryTicks = 0;
    this.votes = new Map();
    this.leadTransferee = null;
    this.transferElapsed = 0;
    this.reads.clear();
    const last = this.log.lastIndex();
    const conf = this.confs.current();
    this.progress = new Map();
    for (const id of [...conf.voters, ...conf.learners]) {
      const pr = new Progress(last + 1, conf.learners.includes(id));
      if (id === this.id) pr.match = last;
      this.progress.set(id, pr);
    }
  }

  private resetRandomizedTimeout(base: number): void {
    this.randomizedTimeout = base + this.cfg.rng.intBelow(base);
  }

  // ---- the term rules every role shares (Raft §5.1, thesis §9.6) ----------------------------

  step(m: Message): void {
    if (m.type === 'removed') return this.handleRemovedNotice(m.from, m.confIndex);
    this.answerNonMember(m);
    if (m.term > this.term && m.term !== 0) {
      if ((m.type === 'vote' || m.type === 'pre-vote') && this.inLease() && !m.transfer) return;
      if (m.type === 'pre-vote' || (m.type === 'pre-vote-resp' && !m.reject)) {
        // A pre-vote never changes terms; a granted pre-vote answer carries the future term.
      } else {
        const fromLeader = m.type === 'append' || m.type === 'heartbeat' || m.type === 'snapshot';
        this.becomeFollower(m.term, fromLeader ? m.from : null);
      }
    } else if (m.term < this.term && m.term !== 0) {
      this.answerStale(m);
      return;
    }
    if (m.type === 'vote' || m.type === 'pre-vote') this.handleVoteRequest(m);
    else this.stepFn(this, m);
  }

  /**
   * Follower-side lease (with check-quorum): a node that heard from a leader within the election
   * timeout ignores vote requests, so a partitioned node rejoining cannot depose a healthy leader.
   */
  private inLease(): boolean {
    return this.cfg.checkQuorum && this.lead !== null && this.electionElapsed < this.cfg.electionTicks;
  }

  /**
   * A follower lost its link to its leader `id` (the leader's process died and its sockets closed,
   * or the connection failed). Instead of waiting out a whole election timeout it forgets the
   * leader, so its lease no longer makes it refuse other nodes' pre-votes, and brings its election
   * timer close to firing. The followers that lost the same leader take turns by rank (their
   * place among the other voters' sorted ids): the first campaigns after 1 tick, the next
   * DISCONNECT_STAGGER ticks later, and so on, so they do not split the vote by campaigning in the
   * same tick (a random spread collided often, costing a whole election timeout each time).
   * Liveness only: an election is safe at any moment, and with pre-vote a follower whose link alone
   * failed cannot win while the other followers still hear the leader (they refuse it under their
   * lease). A heartbeat from a leader that is in fact alive restores `lead`.
   */
  leaderDisconnected(id: NodeId): void {
    if (this.role !== 'follower' || this.lead !== id || !this.promotable()) return;
    this.lead = null;
    const others = this.confs.current().voters.filter((v) => v !== id).sort();
    const rank = Math.max(0, others.indexOf(this.id));
    const wait = Math.min(1 + DISCONNECT_STAGGER * rank, this.randomizedTimeout);
    this.electionElapsed = Math.max(this.electionElapsed, this.randomizedTimeout - wait);
  }

  private answerStale(m: Message): void {
    if ((this.cfg.checkQuorum || this.cfg.preVote) && (m.type === 'append' || m.type === 'heartbeat')) {
      // Tell a stale leader our term so it steps down; without this, a leader cut off by
      // pre-vote/lease could go on believing in itself forever.
      this.send({ from: this.id, to: m.from, term: this.term, type: 'append-resp', index: 0, reject: true, hintTerm: 0, hintIndex: 0 });
    } else if (m.type === 'pre-vote') {
      this.send({ from: this.id, to: m.from, term: this.term, type: 'pre-vote-resp', reject: true });
    }
  }

  private handleVoteRequest(m: VoteMessage): void {
    const canVote =
      this.vote === m.from ||
      (this.vote === null && this.lead === null) ||
      (m.type === 'pre-vote' && m.term > this.term);
    const respType = m.type === 'vote' ? 'vote-resp' : 'pre-vote-resp';
    if (canVote && this.log.isUpToDate(m.lastIndex, m.lastTerm)) {
      // Answer with the request's term so a pre-candidate recognises its own round.
      this.send({ from: this.id, to: m.from, term: m.term, type: respType, reject: false });
      if (m.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ from: this.id, to: m.from, term: this.term, type: respType, reject: true });
    }
  }

  // ---- elections ---------------------------------------------------------------------------

  campaign(kind: CampaignKind): void {
    if (!this.promotable()) return;
    let term: number;
    let type: VoteMessage['type'];
    if (kind === 'pre-election') {
      this.becomePreCandidate();
      type = 'pre-vote';
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      type = 'vote';
      term = this.term;
    }
    if (this.poll(this.id, true) === 'won') {
      // A single-voter cluster wins at once.
      if (kind === 'pre-election') this.campaign('election');
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const v of [...this.voters()].sort()) {
      if (v === this.id) continue;
      this.send({ from: this.id, to: v, term, type, lastIndex, lastTerm, transfer: kind === 'transfer' });
    }
  }

  poll(from: NodeId, granted: boolean): VoteResult {
    if (!this.votes.has(from)) this.votes.set(from, granted);
    return voteResult(this.voters(), this.votes);
  }

  // ---- log, commit, membership (leader) -------------------------------------------------------

  /** Leader: appends entries of the current term and replicates them. Returns the last index. */
  appendEntries(specs: ReadonlyArray<{ type: EntryType; data: Uint8Array }>): number {
    const first = this.log.lastIndex() + 1;
    const ents = specs.map((s, i) => ({ term: this.term, index: first + i, type: s.type, data: s.data }));
    const last = this.log.append(ents);
    this.progress.get(this.id)?.maybeUpdate(last);
    if (ents.some((e) => e.type === 'conf-change')) this.onLogWritten(first, ents);
    if (!this.maybeCommit()) bcastAppend(this);
    // The state is changing: a lazy read still waiting is confirmed now, not a heartbeat interval
    // later, so a client that reads while the cluster changes is not held up (it sees the state
    // from before this write, and its local watch then reports the write).
    const ctx = this.reads.lastCtx();
    if (ctx !== null) bcastReadHeartbeat(this, ctx);
    return last;
  }

  /** Entries from `from` on were (re)written: membership may have changed. */
  onLogWritten(from: number, ents: readonly { type: EntryType; index: number; data: Uint8Array; term: number }[]): void {
    if (this.confs.onAppend(from, ents)) this.applyConf(this.confs.lastIndex());
  }

  /** Replaces our log with a snapshot from the leader; false if it brings nothing new. */
  restore(s: Snapshot): boolean {
    if (s.index <= this.log.committed) return false;
    if (this.log.matchTerm(s.index, s.term)) {
      // We already hold the snapshot's last entry: just fast-forward commit.
      this.log.commitTo(s.index);
      return false;
    }
    this.log.restore(s);
    this.confs.reset(s.index, s.confState);
    this.applyConf(s.index);
    return true;
  }

  /** Brings the progress map in line with the current membership. */
  private applyConf(index: number): void {
    const conf: ConfState = this.confs.current();
    const members = new Set([...conf.voters, ...conf.learners]);
    for (const id of [...this.progress.keys()]) if (!members.has(id)) this.progress.delete(id);
    for (const id of members) {
      const isLearner = conf.learners.includes(id);
      const pr = this.progress.get(id);
      if (pr !== undefined) pr.isLearner = isLearner;
      else {
        const fresh = new Progress(this.log.lastIndex() + 1, isLearner);
        if (id === this.id) fresh.match = this.log.lastIndex();
        this.progress.set(id, fresh);
      }
    }
    this.events.push({ kind: 'conf-changed', index, confState: conf });
    if (members.has(this.id)) {
      // Added (back): whatever we were told before no longer holds.
      this.removedNotice = null;
      this.removedReported = false;
    }
    if (this.leadTransferee !== null && !conf.voters.includes(this.leadTransferee)) {
      this.abortTransfer('target is no longer a voter');
    }
  }

  confPending(): boolean {
    return this.confs.lastIndex() > this.log.committed;
  }

  /**
   * Leader: advance commit to the highest index the commit rule allows, but only by counting
   * replicas of an entry of the current term (Raft §5.4.2). On success, tells followers.
   */
  maybeCommit(): boolean {
    const matches = this.voters().map((v) => this.progress.get(v)?.match ?? 0);
    const idx = committedIndex(matches, this.cfg.commitRule);
    if (idx <= this.log.committed || this.log.term(idx) !== this.term) return false;
    this.log.commitTo(idx);
    this.onCommitAdvanced();
    return true;
  }

  /** Called whenever the commit index advanced (on any role): a committed self-removal is final. */
  noteCommitted(): void {
    if (this.isRemoved()) this.reportRemoval(null, this.confs.lastIndex());
  }

  private onCommitAdvanced(): void {
    // maybeCommit only commits entries of our term, so reads held back until then may proceed.
    for (const req of this.reads.takeWaiting()) handleReadIndex(this, req.ctx, req.requester);
    bcastAppend(this);
    if (!this.voters().includes(this.id) && !this.confPending()) this.stepDownAfterRemoval();
  }

  /**
   * Our own removal committed: hand over to the most up-to-date voter (so the cluster need not
   * wait out an election timeout) and step down.
   */
  private stepDownAfterRemoval(): void {
    const last = this.log.lastIndex();
    const heir = [...this.voters()].sort().find((v) => this.progress.get(v)?.match === last);
    if (heir !== undefined) sendTimeoutNow(this, heir);
    this.becomeFollower(this.term, null, 'removed from the voters');
  }

  propose(type: EntryType, data: Uint8Array): ProposeResult {
    if (this.role !== 'leader') {
      return { accepted: false, reason: 'not-leader', detail: `node ${this.id} is a ${this.role}`, leaderHint: this.lead };
    }
    if (this.leadTransferee !== null) {
      return { accepted: false, reason: 'transfer-in-progress', detail: `leadership is moving to ${this.leadTransferee}`, leaderHint: this.id };
    }
    const index = this.appendEntries([{ type, data }]);
    return { accepted: true, index, term: this.term };
  }

  proposeConfChange(change: ConfChange): ProposeResult {
    if (this.role === 'leader' && this.confPending()) {
      return { accepted: false, reason: 'conf-change-pending', detail: `membership change at index ${this.confs.lastIndex()} is not committed yet`, leaderHint: this.id };
    }
    const checked = applyConfChange(this.confs.current(), change);
    if (this.role === 'leader' && !checked.ok) {
      return { accepted: false, reason: 'invalid-conf-change', detail: checked.reason, leaderHint: this.id };
    }
    return this.propose('conf-change', encodeConfChange(change));
  }

  // ---- leadership transfer and reads ---------------------------------------------------------

  abortTransfer(reason: string): void {
    if (this.leadTransferee === null) return;
    this.events.push({ kind: 'transfer-aborted', target: this.leadTransferee, reason });
    this.leadTransferee = null;
    this.transferElapsed = 0;
  }
}
