/**
 * Value types of the pure Raft core: log entries, persistent state, snapshots, wire messages,
 * and the Ready batch handed to the driver. Everything here is plain data so that a driver can
 * serialise it and a simulator can copy, drop or duplicate it freely.
 */

/** A server's permanent identity. Never reuse an id after the server was removed. */
export type NodeId = string;

/** Injected randomness: the core has none of its own, so a seeded Rng replays a run exactly. */
export interface Rng {
  /** A uniformly chosen integer in [0, n). `n` is a positive integer. */
  intBelow(n: number): number;
}

/** `noop` is the empty entry a new leader appends at the start of its term (Raft §5.4.2, §6.4). */
export type EntryType = 'normal' | 'conf-change' | 'noop';

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  /** Application bytes; for `conf-change`, an encoded ConfChange (confchange/confchange.ts). */
  readonly data: Uint8Array;
}

/** What must survive a crash besides the log. `vote` is null when no vote was cast this term. */
export interface HardState {
  readonly term: number;
  readonly vote: NodeId | null;
  readonly commit: number;
}

/** A membership: voters count for elections and commits; learners only receive the log. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** A state-machine image covering the log up to and including `index`. */
export interface Snapshot {
  readonly index: number;
  readonly term: number;
  /** Membership in force at `index`, so a restored node knows its peers. */
  readonly confState: ConfState;
  readonly data: Uint8Array;
}

/** One-server-at-a-time membership change (Raft thesis §4.1), carried in a conf-change entry. */
export interface ConfChange {
  readonly kind: 'add-learner' | 'promote' | 'remove';
  readonly node: NodeId;
}

interface Envelope {
  readonly from: NodeId;
  readonly to: NodeId;
  /**
   * Sender's term. 0 marks a request forwarded between nodes of the same group that carries no
   * term (read-index and transfer-leader forwarded to the leader); it is never term-checked.
   */
  readonly term: number;
}

/** Replicate `entries` after (index, logTerm); carries the leader's commit index. */
export interface AppendMessage extends Envelope {
  readonly type: 'append';
  readonly index: number;
  readonly logTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

/**
 * Answer to append or snapshot. On success `index` is the highest index known to match the
 * leader. On rejection `index` is the rejected prev index and the hint names the follower's
 * conflicting term and the first index it holds of that term (hintTerm 0: the follower's log
 * simply ends before `index`, and hintIndex is its lastIndex + 1).
 */
export interface AppendRespMessage extends Envelope {
  readonly type: 'append-resp';
  readonly index: number;
  readonly reject: boolean;
  readonly hintTerm: number;
  readonly hintIndex: number;
}

/** `commit` is min(follower's match, leader commit); `ctx` is a pending read-index context. */
export interface HeartbeatMessage extends Envelope {
  readonly type: 'heartbeat';
  readonly commit: number;
  readonly ctx: string | null;
}

export interface HeartbeatRespMessage extends Envelope {
  readonly type: 'heartbeat-resp';
  readonly ctx: string | null;
}

/** A (pre-)vote request. For pre-vote, `term` is the term the sender would campaign in. */
export interface VoteMessage extends Envelope {
  readonly type: 'vote' | 'pre-vote';
  readonly lastIndex: number;
  readonly lastTerm: number;
  /** Set by a leadership transfer: bypasses the follower-side leader lease. */
  readonly transfer: boolean;
}

export interface VoteRespMessage extends Envelope {
  readonly type: 'vote-resp' | 'pre-vote-resp';
  readonly reject: boolean;
}

export interface SnapshotMessage extends Envelope {
  readonly type: 'snapshot';
  readonly snapshot: Snapshot;
}

/** Leadership transfer: the receiver campaigns at once, skipping pre-vote. */
export interface TimeoutNowMessage extends Envelope {
  readonly type: 'timeout-now';
}

/** A follower forwards a read-index request to the leader. */
export interface ReadIndexMessage extends Envelope {
  readonly type: 'read-index';
  readonly ctx: string;
}

export interface ReadIndexRespMessage extends Envelope {
  readonly type: 'read-index-resp';
  readonly ctx: string;
  readonly index: number;
}

/** A follower forwards a transfer request to the leader. */
export interface TransferLeaderMessage extends Envelope {
  readonly type: 'transfer-leader';
  readonly target: NodeId;
}

/**
 * "You are not a member": a member whose committed configuration (at `confIndex`) lacks the
 * sender of a (pre-)vote request tells it so, since a removed server usually never receives the
 * entry that removed it (the leader stops replicating to it as soon as the entry is appended).
 */
export interface RemovedMessage extends Envelope {
  readonly type: 'removed';
  readonly confIndex: number;
}

export type Message =
  | RemovedMessage
  | AppendMessage
  | AppendRespMessage
  | HeartbeatMessage
  | HeartbeatRespMessage
  | VoteMessage
  | VoteRespMessage
  | SnapshotMessage
  | TimeoutNowMessage
  | ReadIndexMessage
  | ReadIndexRespMessage
  | TransferLeaderMessage;

export type MessageType = Message['type'];

export type Role = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

/** Volatile state worth telling the driver about; not persisted. */
export interface SoftState {
  readonly role: Role;
  /** The leader this node follows (itself when leader); null when unknown. */
  readonly lead: NodeId | null;
}

/** A read-index answer: once this node has applied `index`, a read for `ctx` is linearizable. */
export interface ReadState {
  readonly ctx: string;
  readonly index: number;
}

/** Things the core decided that an operator should see (the driver logs them as jobs/events). */
export type RaftEvent =
  | { readonly kind: 'became-leader'; readonly term: number }
  | { readonly kind: 'stepped-down'; readonly term: number; readonly reason: string }
  | { readonly kind: 'learner-promotion-proposed'; readonly node: NodeId; readonly index: number }
  | {
      readonly kind: 'autoremove-proposed';
      readonly node: NodeId;
      readonly silentTicks: number;
      readonly index: number;
    }
  | { readonly kind: 'transfer-started'; readonly target: NodeId }
  | { readonly kind: 'transfer-aborted'; readonly target: NodeId; readonly reason: string }
  | { readonly kind: 'conf-changed'; readonly index: number; readonly confState: ConfState }
  /** This node is no longer a member: told by `by` (null: it applied its own removal) as of config `index`. */
  | { readonly kind: 'removed'; readonly by: NodeId | null; readonly index: number };

/**
 * One batch of work for the driver. Duties, IN THIS ORDER:
 * 1. If `snapshot` is set, install it durably (replacing the log up to its index) and restore the
 *    state machine from its data.
 * 2. Durably append `entries` (an entry at index i replaces any stored entry >= i) and store
 *    `hardState` if set. Both must be on stable storage before step 3.
 * 3. Send `messages` (they may promise votes and acknowledge entries persisted in step 2).
 * 4. Apply `committed` in order (they may include entries from step 2 of this same Ready).
 *    Conf-change entries need no action from the driver: membership already took effect when
 *    they were appended; `RawNode.confStateAt(index)` gives the membership for snapshots.
 * 5. Answer `readStates`: serve each read once the state machine has applied its index.
 * 6. Log `events`, then call `advance(ready)` with this very object.
 */
export interface Ready {
  /** Role/leader when changed since the previous Ready, else null. */
  readonly softState: SoftState | null;
  /** Null when unchanged since the previous Ready. */
  readonly hardState: HardState | null;
  readonly snapshot: Snapshot | null;
  readonly entries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly committed: readonly Entry[];
  readonly readStates: readonly ReadState[];
  readonly events: readonly RaftEvent[];
}

/** Outcome of propose/proposeConfChange; a rejection is a value, not an exception. */
export type ProposeResult =
  | { readonly accepted: true; readonly index: number; readonly term: number }
  | {
      readonly accepted: false;
      readonly reason:
        | 'not-leader'
        | 'transfer-in-progress'
        | 'conf-change-pending'
        | 'invalid-conf-change';
      readonly detail: string;
      /** The leader this node believes in, if any, so a client can retry there. */
      readonly leaderHint: NodeId | null;
    };
