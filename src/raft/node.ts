/**
 * The async driver around the pure Raft core (as etcd's node.go is around RawNode): a tick timer,
 * the disk store, the TCP transport and the KV state machine. It implements KvClientOps, so the
 * Raft DCS adapter reads and writes through it.
 *
 * Ready handling (persist, send, apply, advance, and the order rules that keep it safe while the
 * leader sends before its own fsync) lives in ready-loop.ts; the applied state and the requests
 * waiting on it in applied-state.ts. This file wires them to the transport and the disk, and
 * holds the client API.
 *
 * Writes go through the Raft leader: a follower forwards the command over the transport's RPC
 * channel. The leader stamps its monotonic clock into each command (lease deadlines are the
 * leader's business). Reads are linearizable: the leader confirms its leadership with a read-index
 * round and answers once it has applied up to that index.
 */
import { performance } from 'node:perf_hooks';
import { mkdirSync } from 'node:fs';
import {
  RawNode, bootstrapState, type ConfChange, type ConfState, type NodeId, type RaftConfig, type RaftEvent, type Role,
} from './core/index.js';
import { AppliedState } from './applied-state.js';
import { RaftJobs } from './jobs.js';
import { LeaderRouter, type LeaderOp, type LeaderOpResult } from './leader-router.js';
import { addressOf, describeStatus, peerMap, type RaftDescription } from './peers.js';
import { NoLeaderError, RaftRefusedError, seededRng, watchLocal } from './node-support.js';
import { ReadyLoop } from './ready-loop.js';
import { NoticeLinks, RaftRemovedError, removedText } from './removal.js';
import { DiskStorage } from './storage/index.js';
import { TcpTransport, type PeerAddress } from './transport/index.js';
import {
  encodeCommand, isReadOnlyTxn, KvStateMachine, LeaseClock,
  type KvClientOps, type KvCommand, type KvErrorResult, type KvResult, type LeaseGrantResult, type LeaseKeepAliveResult,
  type LeaseRevokeResult, type RangeOptions, type RangeReply, type TxnRequest, type TxnResult, type WatchResult,
} from './kv/index.js';

export { addressOf, type RaftDescription } from './peers.js';
export { RaftRemovedError } from './removal.js';
export { NoLeaderError, RaftRefusedError } from './node-support.js';

/** Core options beyond the two timing ones (QLUSTER settings: raftOptionsFromQluster). */
export type RaftTuning = Partial<Pick<RaftConfig, 'preVoteTicks' | 'leaderVotingTicks' | 'replicationRetryTicks' | 'commitRule' | 'autoremove'>>;

export interface RaftNodeLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface RaftNodeOptions {
  /** This node's id: its raft address "host:port". */
  readonly id: NodeId;
  readonly listen: PeerAddress;
  /** Founding voters (ids = "host:port" addresses), self included. */
  readonly voters: readonly NodeId[];
  readonly dataDir: string;
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  /** Every client call rejects after this long without an answer (no leader, no quorum). */
  readonly requestTimeoutMs: number;
  /** The transport's first reconnect delay (QLUSTER hello-retry-interval), doubling up to 8x. */
  readonly reconnectBaseMs?: number;
  /** QLUSTER's other settings for the core (commit rule, vote timeouts, autoremove...). */
  readonly tuning?: RaftTuning;
  readonly clusterToken?: string;
  readonly log: RaftNodeLogger;
  /**
   * Start blank, as a server waiting to be added (POST /raft/peers on a member): no founding
   * membership is written, the node never campaigns, and it learns the data and the membership
   * from the leader's snapshot. Ignored when the data dir already holds state.
   */
  readonly join?: boolean;
  /** KV prefix of membership jobs ("/<namespace>/<scope>/jobs/"); when set, this node runs them while it leads. */
  readonly jobsPrefix?: string;
}

export class RaftNode implements KvClientOps {
  private readonly storage: DiskStorage;
  private readonly raw: RawNode;
  private readonly transport: TcpTransport;
  private readonly leases: LeaseClock;
  private readonly state: AppliedState;
  private readonly loop: ReadyLoop;
  private readonly router: LeaderRouter;
  private ticker: NodeJS.Timeout | null = null;
  /** performance.now() up to which ticks have been counted (see wake). */
  private tickedTo = 0;
  /** The ticks the pending wake-up was scheduled for (what countTicks accepts, plus one). */
  private expectTicks = 1;
  private readSeq = 0;
  private role: Role = 'follower';
  private lead: NodeId | null = null;
  private closed = false;
  /** The transport's current peer map (the latest membership minus this node). */
  private peers: Map<NodeId, PeerAddress>;
  /** Removed servers being told so (their links outlive membership briefly). */
  private readonly notices = new NoticeLinks();
  private removedLogged = false;

  constructor(private readonly o: RaftNodeOptions) {
    mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
    this.storage = DiskStorage.open(o.dataDir, { logger: o.log });
    if (this.storage.lastIndex() === 0 && this.storage.snapshot().index === 0 && !o.join) {
      const b = bootstrapState(o.voters, new KvStateMachine().snapshot());
      this.storage.persist({ snapshot: b.snapshot, hardState: b.hardState });
    }
    const snap = this.storage.snapshot();
    // A joining server has no snapshot yet: it starts empty and installs the leader's.
    this.state = new AppliedState(snap, (result) => { if (this.isLeader) this.leases.observe(result, performance.now()); });
    this.raw = new RawNode({
      id: o.id, storage: this.storage, rng: seededRng(Number(process.hrtime.bigint() % 2147483647n)),
      ...o.tuning,
      electionTicks: o.electionTicks, heartbeatTicks: o.heartbeatTicks, preVote: true, checkQuorum: true, applied: snap.index,
    });
    // The committed log (snapshot + entries) is the authority on membership: the configured voters
    // only seed a brand-new cluster, so a restarted node needs no config edit after add/remove.
    const conf = this.raw.status().confState;
    const known = [...conf.voters, ...conf.learners];
    const peers = peerMap(o.id, known.length > 0 ? known : o.voters);
    this.peers = peers;
    this.transport = new TcpTransport({
      self: o.id, listen: o.listen, peers, log: o.log,
      ...(o.reconnectBaseMs ? { reconnectBaseMs: o.reconnectBaseMs } : {}),
      ...(o.clusterToken ? { clusterToken: o.clusterToken } : {}),
    });
    this.leases = new LeaseClock({ electionTimeoutMs: o.electionTicks * o.tickMs });
    this.jobs = o.jobsPrefix ? new RaftJobs(this, o.jobsPrefix, o.log) : null;
    // Jobs are scheduled on change, not by polling (issue 4: idle wake-ups).
    const jobs = this.jobs;
    if (jobs) this.state.onChange((c) => jobs.applied(c));
    this.loop = this.readyLoop();
    this.router = new LeaderRouter({
      self: o.id, timeoutMs: o.requestTimeoutMs,
      leader: () => this.lead, closed: () => this.closed, local: (op) => this.local(op),
      request: (to, payload, ms) => this.transport.request(to, payload, ms),
    });
  }

  /** The KV state machine (this node's applied state; replaced when a snapshot is installed). */
  get kv(): KvStateMachine { return this.state.kv; }

  private readyLoop(): ReadyLoop {
    return new ReadyLoop(this.raw, this.storage, {
      send: (m) => {
        if (m.type === 'removed') this.reachForNotice(m.to);
        this.transport.send(m.to, m);
      },
      // The current leader stays a peer even when a configuration replayed by a joining server
      // predates it (the joiner must answer the leader that is catching it up).
      confChanged: (conf) => this.setTransportPeers([...conf.voters, ...conf.learners, ...(this.lead && this.lead !== this.o.id ? [this.lead] : [])]),
      restore: (snap) => this.state.restore(snap),
      softState: (role, lead) => this.onSoftState(role, lead),
      apply: (e) => this.state.apply(e),
      readState: (rs) => this.state.readState(rs),
      event: (ev) => {
        if (ev.kind === 'removed') this.onRemoved(ev);
        else if (ev.kind === 'autoremove-proposed') this.onAutoremove(ev);
        else this.o.log.info({ event: ev }, `raft: ${ev.kind}`);
      },
      advanced: () => this.maybeCompact(),
      fatal: (err) => this.onFatal(err),
    });
  }

  /**
   * The disk failed (or the core found a broken invariant): this node must not go on as if its
   * writes were durable. Logged, then thrown outside any promise so the process stops, as it did
   * when the write was synchronous (etcd panics likewise).
   */
  private onFatal(err: unknown): void {
    this.o.log.error({ err: err instanceof Error ? err.message : String(err) }, 'raft: storage or core failure, stopping');
    process.nextTick(() => { throw err; });
  }

  /** Membership jobs (null unless `jobsPrefix` was given). */
  readonly jobs: RaftJobs | null;

  async start(): Promise<void> {
    this.transport.onMessage((from, m) => {
      this.learnSender(from);
      // The ticks due before this message first: a follower sleeps through its heartbeats (wakeMs).
      this.catchUpTicks();
      this.loop.receive(m);
    });
    this.transport.onRequest((_from, payload) => this.router.serve(payload, this.isLeader));
    this.transport.onPeerDown((peer) => this.onPeerDown(peer));
    await this.transport.start();
    this.tickedTo = performance.now();
    this.scheduleWake();
    this.jobs?.start();
  }

  /**
   * A joining server knows no members until the leader's snapshot arrives, yet must answer the
   * leader's first messages: while its membership is empty, each sender becomes a transport peer
   * (the connection was already authenticated by the cluster token). The snapshot's membership
   * then replaces this map through the conf-changed event.
   */
  private learnSender(from: NodeId): void {
    if (this.peers.has(from)) return;
    const conf = this.raw.status().confState;
    if (conf.voters.length + conf.learners.length > 0) return;
    this.setTransportPeers([...this.peers.keys(), from]);
  }

  private setTransportPeers(ids: readonly NodeId[]): void {
    this.peers = peerMap(this.o.id, ids);
    this.transport.setPeers(this.notices.merge(this.peers));
  }

  /** A removal notice for a server outside the membership needs a link of its own for a while. */
  private reachForNotice(to: NodeId): void {
    if (this.peers.has(to) || !this.notices.add(to, performance.now())) return;
    this.transport.setPeers(this.notices.merge(this.peers));
  }

  /** Whether this node knows it was removed from the cluster (it then serves no client call). */
  get removed(): boolean { return this.raw.isRemoved(); }

  private onRemoved(ev: Extract<RaftEvent, { kind: 'removed' }>): void {
    if (this.removedLogged) return;
    this.removedLogged = true;
    this.o.log.error({ by: ev.by, confIndex: ev.index }, `raft: ${removedText(this.o.id, this.o.dataDir)}`);
  }

  private onAutoremove(ev: Extract<RaftEvent, { kind: 'autoremove-proposed' }>): void {
    const silentMs = ev.silentTicks * this.o.tickMs;
    this.o.log.warn({ node: ev.node, silentMs, index: ev.index }, `raft autoremove: removing ${ev.node}, silent for ${(silentMs / 1000).toFixed(1)} s`);
    this.jobs?.recordAutoremove(ev.node, silentMs, ev.index)
      .catch((e: unknown) => this.o.log.warn({ node: ev.node, err: e instanceof Error ? e.message : String(e) }, 'raft autoremove: could not record the job'));
  }

  get id(): NodeId { return this.o.id; }
  get leader(): NodeId | null { return this.lead; }
  get isLeader(): boolean { return this.role === 'leader'; }

  status() {
    return { ...this.raw.status(), transport: this.transport.stats(), applied: this.state.applied, revision: this.kv.revision };
  }

  /**
   * How long the driver sleeps between batches of ticks. The core still counts time in tickMs
   * ticks, but an idle node need not wake for each one (issue 4: an idle node woke 20 times a
   * second). A leader wakes when a heartbeat falls due to some peer (a heartbeat interval after
   * it last sent that peer anything), and at its next lease deadline. A follower that hears its
   * leader wakes only when its election timer would run out if nothing arrived meanwhile: the
   * messages that do arrive are preceded by the ticks due before them (catchUpTicks), so the timer
   * is exact and the heartbeats themselves are the follower's only wake-ups. A node without a leader (an election under way) wakes at every tick.
   */
  private wakeMs(now: number): number {
    const core = this.raw.basicStatus();
    if (core.role !== 'leader' && core.lead === null) return this.o.tickMs;
    let ms = this.o.heartbeatTicks * this.o.tickMs;
    if (core.role === 'leader') {
      const hb = this.raw.ticksUntilHeartbeat();
      if (hb !== null) ms = hb * this.o.tickMs;
      const lease = this.leases.nextDeadlineMs();
      if (lease !== null) ms = Math.min(ms, Math.max(1, lease - now + 1));
    } else {
      const ticks = this.raw.ticksUntilElection();
      if (ticks !== null) ms = ticks * this.o.tickMs;
    }
    return ms;
  }

  private scheduleWake(): void {
    if (this.closed) return;
    if (this.ticker) clearTimeout(this.ticker);
    const ms = this.wakeMs(performance.now());
    this.expectTicks = Math.max(this.o.heartbeatTicks, Math.ceil(ms / this.o.tickMs));
    this.ticker = setTimeout(() => { this.ticker = null; this.wake(); }, ms);
  }

  /**
   * Counts the ticks due since the last count, at most one more than the pending wake-up was
   * scheduled for: time lost to a stalled event loop is dropped, as a plain interval timer would,
   * so a leader whose loop stalled does not run check-quorum before reading the acks waiting in
   * its sockets. A follower's wake-up can be an election timeout away, so after a stall that long
   * it may start a pre-vote before reading the heartbeat waiting in its socket: harmless, since
   * the other voters still hear the leader and refuse, and that heartbeat brings it back.
   */
  private countTicks(now: number): number {
    const due = Math.floor((now - this.tickedTo) / this.o.tickMs);
    const n = Math.min(due, this.expectTicks + 1);
    this.tickedTo = n < due ? now : this.tickedTo + n * this.o.tickMs;
    return n;
  }

  private wake(): void {
    const now = performance.now();
    this.tick(this.countTicks(now), now);
    this.scheduleWake();
  }

  /** Before a received message is stepped: feed the core the ticks that passed before it arrived. */
  private catchUpTicks(): void {
    if (this.closed) return;
    const n = this.countTicks(performance.now());
    for (let i = 0; i < n; i++) this.raw.tick();
  }

  /** The link to `peer` failed: if it was the leader, a follower campaigns soon (Raft.leaderDisconnected). */
  private onPeerDown(peer: NodeId): void {
    if (this.closed || peer !== this.lead || this.isLeader) return;
    this.raw.reportDisconnected(peer);
    this.loop.kick();
    // The core forgot the leader: wake at tick rate from now on, to run the election on time.
    if (this.raw.basicStatus().lead === null) this.scheduleWake();
  }

  private tick(count: number, now: number): void {
    if (this.notices.expire(now)) this.transport.setPeers(this.notices.merge(this.peers));
    for (let i = 0; i < count; i++) this.raw.tick();
    if (this.isLeader) {
      for (const id of this.leases.expired(now)) {
        const cmd = this.leases.revokeCommand(id);
        if (cmd) void this.proposeLocal(cmd).catch(() => undefined);
      }
    }
    this.loop.kick();
  }

  private onSoftState(role: Role, lead: NodeId | null): void {
    const wasLeader = this.role === 'leader';
    this.role = role;
    this.lead = lead;
    if (lead !== null && lead !== this.o.id && !this.peers.has(lead)) this.setTransportPeers([...this.peers.keys(), lead]);
    if (role === 'leader' && !wasLeader) {
      // A new leader cannot trust another node's clock: every lease restarts its countdown here.
      this.leases.promote(this.kv.leases(), performance.now());
      this.o.log.info({ term: this.raw.basicStatus().term }, 'raft: this node is the leader');
      this.jobs?.nudge();
    } else if (role !== 'leader' && wasLeader) {
      this.leases.demote();
      // The core dropped the reads it had not confirmed; without this their callers (an agent's
      // cluster read forwarded here, GET /jobs) would wait out the whole request timeout, then
      // retry. Rejected now, the router retries them at once at the new leader.
      this.state.rejectReads(new NoLeaderError('leadership changed before the read was confirmed'));
    }
    // The pending wake-up was planned for the old role. A follower told to campaign at once (a
    // leadership transfer) wins by messages alone, with no tick: without this it would sleep
    // until its old election deadline and send no heartbeat meanwhile, so the other followers'
    // timers could run out first and depose it (seen in membership-jobs: 0.57 s after a transfer).
    this.scheduleWake();
  }

  /** Between Readies (no persist in flight): snapshot the state machine now and then, keeping 200 entries for slow followers. */
  private maybeCompact(): void {
    if (!this.state.snapshotDue()) return;
    const index = this.state.applied;
    const term = this.storage.term(index);
    if (term === null) return;
    this.storage.compact(Math.max(this.storage.firstIndex() - 1, index - 200), { index, term, confState: this.raw.confStateAt(index), data: this.kv.snapshot() });
    this.state.snapshotTaken();
  }

  /** Propose on this node (it must be the leader). Resolves with the apply result. */
  private proposeLocal(cmd: KvCommand): Promise<KvResult> {
    const r = this.raw.propose(encodeCommand(cmd, performance.now()));
    if (!r.accepted) return Promise.reject(new NoLeaderError(`not accepted: ${r.reason}`));
    const p = this.state.track(r.index, r.term);
    this.loop.kick();
    return p;
  }

  /** Run `op` on the leader: here when we are it, else forwarded (one retry after a leader change). */
  private onLeader<T>(op: LeaderOp): Promise<T> {
    if (this.removed) return Promise.reject(new RaftRemovedError(removedText(this.o.id, this.o.dataDir)));
    return this.router.run<T>(op);
  }

  private async local(op: LeaderOp): Promise<LeaderOpResult> {
    if (op.kind === 'propose') return this.proposeLocal(op.cmd);
    if (op.kind === 'conf') return this.confChangeLocal(op.change);
    if (op.kind === 'transfer') {
      const r = this.transferLeadership(op.target);
      if (!r.started) return { refused: r.detail };
      return { kind: 'skipped', index: 0, revision: this.kv.revision };
    }
    if (op.kind === 'read') {
      await this.confirmRead(op.lazy === true);
      const range = this.kv.range(op.target);
      return typeof op.keepalive === 'number' ? { ...range, keepalive: this.renewLease(op.keepalive) } : range;
    }
    if (op.kind === 'readTxn') {
      await this.confirmRead();
      return this.kv.readTxn(op.request);
    }
    if (op.kind === 'keepalive') {
      await this.confirmRead();
      return this.renewLease(op.id);
    }
    throw new TypeError(`unknown leader operation ${JSON.stringify((op as { kind?: unknown }).kind)}`);
  }

  /**
   * Read-index: resolves once a quorum confirmed this node still leads (after the call) and every
   * entry committed before it is applied here. The core answers only after the leader committed an
   * entry of its own term, so by then every entry of earlier terms is applied too.
   */
  private async confirmRead(lazy = false): Promise<void> {
    const ctx = `${this.o.id}#${++this.readSeq}`;
    const answered = this.state.awaitReadIndex(ctx);
    this.raw.readIndex(ctx, { lazy });
    this.loop.kick();
    await this.state.appliedUpTo(await answered);
  }

  /**
   * A keep-alive without a log entry, after confirmRead. Safe because only the leader's clock
   * expires leases and a new leader restarts every lease at now + ttl + election timeout: the
   * holder's deadline (measured from before its request, which precedes the confirmation) ends
   * before either clock could expire the lease. A lease past its deadline here is not renewed.
   */
  private renewLease(id: number): LeaseKeepAliveResult {
    if (!this.isLeader) throw new NoLeaderError('leadership changed while confirming a lease keep-alive');
    const lease = this.kv.lease(id);
    const revision = this.kv.revision;
    if (lease === null || !this.leases.renew(id, performance.now())) {
      return { kind: 'leaseKeepAlive', id, found: false, ttlMs: 0, renewedIndex: 0, revision };
    }
    return { kind: 'leaseKeepAlive', id, found: true, ttlMs: lease.ttlMs, renewedIndex: lease.renewedIndex, revision };
  }

  // --- KvClientOps ---

  txn(request: TxnRequest): Promise<TxnResult | KvErrorResult> {
    // A transaction that only compares and reads changes nothing: a read-index, not a log entry.
    if (isReadOnlyTxn(request)) return this.onLeader({ kind: 'readTxn', request });
    return this.onLeader({ kind: 'propose', cmd: { kind: 'txn', ...request } });
  }
  range(target: { readonly key: string } | { readonly prefix: string }, opts: RangeOptions = {}): Promise<RangeReply> {
    const op: LeaderOp = { kind: 'read', target: { ...target } as { key: string } | { prefix: string } };
    if (opts.keepalive !== undefined) op.keepalive = opts.keepalive;
    if (opts.lazy === true) op.lazy = true;
    return this.onLeader(op);
  }
  leaseGrant(ttlMs: number): Promise<LeaseGrantResult | KvErrorResult> {
    return this.onLeader({ kind: 'propose', cmd: { kind: 'leaseGrant', ttlMs } });
  }
  leaseKeepAlive(id: number): Promise<LeaseKeepAliveResult> {
    return this.onLeader({ kind: 'keepalive', id });
  }
  leaseRevoke(id: number): Promise<LeaseRevokeResult> {
    return this.onLeader({ kind: 'propose', cmd: { kind: 'leaseRevoke', id } });
  }

  /** Local watch (this node's applied state): wakes on changes under `prefix` after `afterRevision`. */
  watch(afterRevision: number, prefix: string, timeoutMs: number): Promise<WatchResult> {
    return watchLocal(this.kv, afterRevision, prefix, timeoutMs);
  }

  /** Leader: propose one membership change; resolves once it committed, or `{refused}` when the core says no. */
  private confChangeLocal(change: ConfChange): Promise<KvResult | { refused: string }> {
    const r = this.raw.proposeConfChange(change);
    if (!r.accepted) {
      if (r.reason === 'not-leader') return Promise.reject(new NoLeaderError(r.detail));
      return Promise.resolve({ refused: `${r.reason}: ${r.detail}` });
    }
    const p = this.state.track(r.index, r.term);
    this.loop.kick();
    return p;
  }

  private async leaderChange(op: LeaderOp): Promise<void> {
    const r = await this.onLeader<KvResult | { refused: string }>(op);
    if ('refused' in r) throw new RaftRefusedError(r.refused);
  }

  /**
   * Adds `id` ("host:port") as a learner; the leader promotes it to voter by itself once it has
   * caught up. Resolves when the add-learner entry committed (not when promoted). Runs on the leader
   * (forwarded from a follower). Rejects with RaftRefusedError (e.g. another change pending) or NoLeaderError.
   */
  addPeer(id: NodeId): Promise<void> {
    addressOf(id);
    return this.leaderChange({ kind: 'conf', change: { kind: 'add-learner', node: id } });
  }

  /** Removes `id` (voter or learner; the leader itself too: it steps down once the change commits). */
  removePeer(id: NodeId): Promise<void> {
    return this.leaderChange({ kind: 'conf', change: { kind: 'remove', node: id } });
  }

  /**
   * Asks the leader to hand leadership to `target` (a voter). Resolves once the transfer started;
   * completion shows as `leader === target`.
   */
  transferLeader(target: NodeId): Promise<void> {
    return this.leaderChange({ kind: 'transfer', target });
  }

  /** The membership this node knows (latest appended configuration). */
  membership(): ConfState {
    return this.raw.status().confState;
  }

  /** GET /raft: term, leader, commit index and, on the leader, each peer's role, match index and last contact. */
  describe(): RaftDescription {
    const t = this.transport.stats().traffic;
    return {
      ...describeStatus(this.raw.status(), this.state.applied, this.o.tickMs),
      traffic: { messages_sent: t.messagesSent, messages_received: t.messagesReceived, requests_sent: t.requestsSent, requests_served: t.requestsServed },
    };
  }

  /** Hand leadership to `target` (or the most caught-up peer) before a planned stop. */
  transferLeadership(target: NodeId): { started: boolean; detail: string } {
    const r = this.raw.transferLeader(target);
    this.loop.kick();
    return r;
  }

  /**
   * Before a planned stop: if this node leads, hand leadership to the most caught-up voter and wait
   * (up to `waitMs`) until someone else leads, so the survivors need no election timeout.
   */
  async handOffLeadership(waitMs: number): Promise<void> {
    if (!this.isLeader || this.closed) return;
    const peers = this.raw.status().peers.filter((p) => p.id !== this.o.id && p.role === 'voter')
      .sort((a, b) => b.match - a.match);
    const target = peers[0];
    if (!target) return;
    this.transferLeadership(target.id);
    const end = performance.now() + waitMs;
    while (performance.now() < end && this.isLeader) await new Promise((r) => setTimeout(r, 20));
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.jobs?.stop();
    if (this.ticker) clearTimeout(this.ticker);
    this.state.rejectAll(new NoLeaderError('raft node closed'));
    // A persist in flight finishes first: its fdatasync must not outlive the file descriptor.
    await this.loop.stop();
    await this.transport.close();
    this.storage.close();
  }
}
