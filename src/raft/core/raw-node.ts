/**
 * RawNode: the synchronous facade a driver uses (etcd's RawNode, redesigned). The driver calls
 * tick() on a timer, step() for each received message, the propose* methods for client work,
 * and loops `while (n.hasReady()) { const rd = n.ready(); ...duties...; n.advance(rd); }`
 * following the duties documented on `Ready` (types.ts).
 *
 * Nothing here does I/O, reads a clock or draws randomness except through the injected Rng.
 */
import type { RaftConfig } from './config.js';
import { invariant } from './errors.js';
import { Raft } from './raft.js';
import { handleReadIndex } from './read-index.js';
import { startTransfer } from './step-leader.js';
import type {
  ConfChange,
  ConfState,
  HardState,
  Message,
  NodeId,
  ProposeResult,
  Ready,
  Role,
  SoftState,
} from './types.js';

/** A member as the leader sees it (GET /raft). Only the leader has these. */
export interface PeerStatus {
  readonly id: NodeId;
  readonly role: 'voter' | 'learner';
  readonly match: number;
  readonly next: number;
  readonly state: 'probe' | 'replicate' | 'snapshot';
  readonly silentTicks: number;
}

export interface Status {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly vote: NodeId | null;
  readonly lead: NodeId | null;
  readonly commit: number;
  readonly lastIndex: number;
  readonly applied: number;
  readonly confState: ConfState;
  readonly leadTransferee: NodeId | null;
  /** This node knows it is no longer a member (see Raft.isRemoved). */
  readonly removed: boolean;
  /** Empty unless this node is the leader. */
  readonly peers: readonly PeerStatus[];
}

const sameHard = (a: HardState, b: HardState) => a.term === b.term && a.vote === b.vote && a.commit === b.commit;

export class RawNode {
  private readonly raft: Raft;
  private prevSoft: SoftState;
  private prevHard: HardState;
  private outstanding: Ready | null = null;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoft = this.softState();
    this.prevHard = config.storage.initialState();
  }

  get id(): NodeId {
    return this.raft.id;
  }

  /** Advances logical time by one tick (elections, heartbeats, retries, check-quorum, autoremove). */
  tick(): void {
    this.raft.tickFn(this.raft);
    this.raft.noteCommitted();
  }

  /** Feeds a message received from a peer. Messages for another node are a driver bug. */
  step(m: Message): void {
    invariant(m.to === this.raft.id, () => `message for ${m.to} stepped into ${this.raft.id}`);
    this.raft.step(m);
    this.raft.noteCommitted();
  }

  /**
   * The driver lost its connection to `peer` (closed, reset or refused). A follower whose leader
   * that is stops waiting out the election timeout: see Raft.leaderDisconnected.
   */
  reportDisconnected(peer: NodeId): void {
    this.raft.leaderDisconnected(peer);
  }

  /** Starts an election now (with pre-vote if enabled), e.g. for tests or an operator. */
  campaign(): void {
    if (this.raft.role !== 'leader') this.raft.campaign(this.raft.cfg.preVote ? 'pre-election' : 'election');
  }

  /** Leader only: appends `data` as a normal entry. Non-leaders answer 'not-leader' with a hint. */
  propose(data: Uint8Array): ProposeResult {
    return this.raft.propose('normal', data);
  }

  /**
   * Leader only: proposes one membership change. It takes effect as soon as it is appended; a
   * second change is refused ('conf-change-pending') until the first one commits.
   */
  proposeConfChange(change: ConfChange): ProposeResult {
    return this.raft.proposeConfChange(change);
  }

  /**
   * Moves leadership to `target` (a voter). On a follower the request is forwarded to the leader
   * (result 'forwarded'); completion shows as a leader change, failure as a transfer-aborted event.
   */
  transferLeader(target: NodeId): { readonly started: boolean; readonly detail: string } {
    const r = this.raft;
    if (r.role === 'leader') return startTransfer(r, target);
    if (r.lead === null) return { started: false, detail: `no leader known to ${r.id}` };
    r.send({ from: r.id, to: r.lead, term: 0, type: 'transfer-leader', target });
    return { started: true, detail: `forwarded to leader ${r.lead}` };
  }

  /**
   * Asks for a linearizable read point. The answer arrives as a ReadState with the same `ctx`
   * in a later Ready (never if leadership is lost meanwhile: the caller times out and retries).
   * `ctx` must be unique among this node's outstanding requests. `lazy` (leader only): no
   * heartbeat round of its own; the next periodic heartbeat confirms it, within a heartbeat interval.
   */
  readIndex(ctx: string, opts: { readonly lazy?: boolean } = {}): void {
    const r = this.raft;
    if (r.role === 'leader') handleReadIndex(r, ctx, r.id, opts.lazy === true);
    else if (r.lead !== null) r.send({ from: r.id, to: r.lead, term: 0, type: 'read-index', ctx });
  }

  hasReady(): boolean {
    const r = this.raft;
    const soft = this.softState();
    return (
      soft.role !== this.prevSoft.role ||
      soft.lead !== this.prevSoft.lead ||
      !sameHard(this.hardState(), this.prevHard) ||
      r.log.unstableSnapshot() !== null ||
      r.log.unstableEntries().length > 0 ||
      r.log.hasNextCommitted() ||
      r.msgs.length > 0 ||
      r.readStates.length > 0 ||
      r.events.length > 0
    );
  }

  /** The pending work. Call advance() with it before asking for the next one. */
  ready(): Ready {
    invariant(this.outstanding === null, 'ready() called again before advance()');
    const r = this.raft;
    const soft = this.softState();
    const hard = this.hardState();
    const committed = r.log.nextCommitted(r.cfg.maxCommittedPerReady);
    const rd: Ready = {
      softState: soft.role !== this.prevSoft.role || soft.lead !== this.prevSoft.lead ? soft : null,
      hardState: sameHard(hard, this.prevHard) ? null : hard,
      snapshot: r.log.unstableSnapshot(),
      entries: r.log.unstableEntries().slice(),
      messages: r.msgs,
      committed,
      readStates: r.readStates,
      events: r.events,
    };
    r.msgs = [];
    r.readStates = [];
    r.events = [];
    const lastCommitted = committed[committed.length - 1];
    if (lastCommitted !== undefined) r.log.applying = lastCommitted.index;
    this.outstanding = rd;
    return rd;
  }

  /** The driver has carried out every duty of `rd` (persisted, sent, applied). */
  advance(rd: Ready): void {
    invariant(rd === this.outstanding, 'advance() called with a Ready that is not the outstanding one');
    const r = this.raft;
    if (rd.snapshot !== null) r.log.stableSnapTo(rd.snapshot.index);
    const last = rd.entries[rd.entries.length - 1];
    if (last !== undefined) r.log.stableTo(last.index, last.term);
    if (rd.hardState !== null) this.prevHard = rd.hardState;
    if (rd.softState !== null) this.prevSoft = rd.softState;
    this.outstanding = null;
  }

  /** Membership in force at log index `index` (for the snapshot the driver is about to take). */
  confStateAt(index: number): ConfState {
    return this.raft.confs.at(index);
  }

  /** Whether this node knows it is no longer a member of the cluster. */
  isRemoved(): boolean {
    return this.raft.isRemoved();
  }

  /**
   * For a follower or candidate: the ticks after which, with no message in between, its election
   * timer runs out (at least 1). A driver may sleep that long instead of ticking at a fixed rate,
   * provided it counts the ticks that passed before stepping each received message. Null for a
   * leader and for a node that cannot campaign (a learner, a removed server).
   */
  ticksUntilElection(): number | null {
    const r = this.raft;
    if (r.role === 'leader' || !r.promotable()) return null;
    return Math.max(1, r.randomizedTimeout - r.electionElapsed);
  }

  /**
   * For a leader: the ticks until a heartbeat is due to some peer (at least 1), counted from the
   * last message sent to each, or to every peer for a read still waiting. A driver that sleeps
   * between ticks wakes then. Null for a non-leader and for a leader without peers.
   */
  ticksUntilHeartbeat(): number | null {
    const r = this.raft;
    if (r.role !== 'leader') return null;
    let min: number | null = null;
    for (const [id, pr] of r.progress) {
      if (id === r.id) continue;
      const left = Math.max(1, r.cfg.heartbeatTicks - pr.idleTicks);
      if (min === null || left < min) min = left;
    }
    // A waiting read gets its heartbeats within an interval even while appends keep peers busy.
    if (min !== null && r.reads.lastCtx() !== null) min = Math.min(min, Math.max(1, r.cfg.heartbeatTicks - r.readRetryTicks));
    return min;
  }

  /** The cheap part of status(): no per-peer data. */
  basicStatus(): { readonly role: Role; readonly term: number; readonly lead: NodeId | null; readonly commit: number } {
    const r = this.raft;
    return { role: r.role, term: r.term, lead: r.lead, commit: r.log.committed };
  }

  status(): Status {
    const r = this.raft;
    const peers: PeerStatus[] = [];
    if (r.role === 'leader') {
      for (const [id, pr] of [...r.progress].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
        peers.push({ id, role: pr.isLearner ? 'learner' : 'voter', match: pr.match, next: pr.next, state: pr.state, silentTicks: pr.silentTicks });
      }
    }
    return {
      id: r.id,
      role: r.role,
      term: r.term,
      vote: r.vote,
      lead: r.lead,
      commit: r.log.committed,
      lastIndex: r.log.lastIndex(),
      applied: r.log.applying,
      confState: r.confs.current(),
      leadTransferee: r.leadTransferee,
      removed: r.isRemoved(),
      peers,
    };
  }

  private softState(): SoftState {
    return { role: this.raft.role, lead: this.raft.lead };
  }

  private hardState(): HardState {
    const r = this.raft;
    return { term: r.term, vote: r.vote, commit: r.log.committed };
  }
}
