/**
 * Raft membership and leadership operations as jobs (transfer_leader, add_peer, remove_peer).
 *
 * A job is a JSON record in the replicated KV under `<prefix><id>`, so every member answers
 * GET /jobs/<id> from the same data. Any member may submit one (the write goes through the leader);
 * only the leader runs them. The runner is idempotent: each pass it checks whether a job's goal
 * already holds (peer is a voter / is gone / target leads) before acting, so a job survives a
 * leader change -- the new leader finishes it, which is also how "remove the leader itself" and
 * "transfer leadership" complete (the old leader cannot report its own success as leader).
 *
 * `autoremove` jobs are not submitted by anyone: the leader records one when its core proposes
 * removing a silent voter (QLUSTER autoremove), so the removal shows in GET /jobs and `ctl jobs`.
 */
import { randomUUID } from 'node:crypto';
import type { ConfState, NodeId } from './core/index.js';
import type { AppliedChange, KeyValue, KvErrorResult, RangeReply, TxnRequest, TxnResult } from './kv/index.js';
import type { RaftDescription } from './peers.js';

/** Kinds an operator can submit. */
export type RaftJobKind = 'transfer_leader' | 'add_peer' | 'remove_peer';
export const RAFT_JOB_KINDS: readonly RaftJobKind[] = ['transfer_leader', 'add_peer', 'remove_peer'];
/** Every kind stored: the submittable ones plus the leader's own autoremove records. */
export type StoredRaftJobKind = RaftJobKind | 'autoremove';
const STORED_KINDS: readonly StoredRaftJobKind[] = [...RAFT_JOB_KINDS, 'autoremove'];

export interface RaftJob {
  readonly id: string;
  readonly kind: StoredRaftJobKind;
  readonly state: 'queued' | 'running' | 'succeeded' | 'failed';
  readonly message: string;
  readonly created_at: string;
  readonly updated_at: string;
  /** transfer_leader: {target}; add_peer / remove_peer: {peer}; autoremove: {peer, silent_ms, index}. */
  readonly params: { readonly target?: string; readonly peer?: string; readonly silent_ms?: number; readonly index?: number };
}

/** What the job runner needs from the Raft node (RaftNode implements it). */
export interface JobsNode {
  readonly id: NodeId;
  readonly isLeader: boolean;
  readonly leader: NodeId | null;
  membership(): ConfState;
  /** This node's applied state (the leader's is current enough to schedule from). */
  readonly kv: { range(target: { readonly prefix: string }): RangeReply };
  txn(request: TxnRequest): Promise<TxnResult | KvErrorResult>;
  range(target: { readonly key: string } | { readonly prefix: string }): Promise<RangeReply>;
  addPeer(id: NodeId): Promise<void>;
  removePeer(id: NodeId): Promise<void>;
  transferLeader(target: NodeId): Promise<void>;
  /** GET /raft's view; on the leader it carries each peer's match index (used to pick a successor). */
  describe?(): RaftDescription;
}

interface JobsLog { info(obj: object, msg: string): void; warn(obj: object, msg: string): void }

/** A peer id is the Raft address "host:port" ("[v6]:port" for IPv6). */
export function checkPeerId(field: string, v: unknown): string {
  const ok = typeof v === 'string' && /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})$/.exec(v);
  const port = ok ? Number(ok[2]) : 0;
  if (!ok || port < 1 || port > 65535) {
    throw new JobInputError(`${field}: expected a Raft address "host:port", got ${JSON.stringify(v)}`);
  }
  return v as string;
}

/** A job request a user got wrong (unknown kind, bad address); the REST layer answers 400. */
export class JobInputError extends Error {
  constructor(message: string) { super(message); this.name = 'JobInputError'; }
}

export interface RaftJobsOptions {
  /** A job not done after this long fails (default 30 s). */
  readonly timeoutMs?: number;
  /** How often the leader steps jobs that are queued or running (default 200 ms). */
  readonly pollMs?: number;
  /**
   * How often a leader with no unfinished job looks for work anyway (default 10 s), a safety net:
   * it is nudged (nudge()) when a job is stored or it becomes leader, so a new job starts at once.
   * A follower does not poll.
   */
  readonly idlePollMs?: number;
}

/** A leader removing itself hands over only to a voter it heard from this recently. */
const SUCCESSOR_CONTACT_MS = 2000;

/** Finished jobs kept in the replicated KV (older ones are deleted by the leader). */
export const KEEP_FINISHED = 100;

export class RaftJobs {
  private timer: NodeJS.Timeout | null = null;
  /** Between start() and stop(): only then does a pass run. */
  private started = false;
  private busy = false;
  /** A scheduled pass is running, from its timer until it has rescheduled. */
  private running = false;
  /** A nudge came while a scheduled pass ran: pass again at once when it ends. */
  private nudged = false;
  /** The last pass, on the leader, saw a queued or running job. */
  private active = false;
  private readonly idlePollMs: number;
  /** Jobs this node acted on while leading, with when: re-act only after a pause. */
  private readonly acted = new Map<string, number>();
  private readonly timeoutMs: number;
  private readonly pollMs: number;

  constructor(private readonly node: JobsNode, private readonly prefix: string, private readonly log: JobsLog, o: RaftJobsOptions = {}) {
    this.timeoutMs = o.timeoutMs ?? 30_000;
    this.pollMs = o.pollMs ?? 200;
    this.idlePollMs = Math.max(this.pollMs, o.idlePollMs ?? 10_000);
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.schedule(this.pollMs);
  }

  stop(): void {
    this.started = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * Something may have work: a job was stored or changed, or this node became leader. A pass runs
   * at once (after the one in flight, if any).
   */
  nudge(): void {
    if (!this.started) return;
    // While a scheduled pass runs, its end reschedules: it must see the nudge, or replace it.
    if (this.running) { this.nudged = true; return; }
    this.schedule(0);
  }

  /** An applied change (AppliedState.onChange): nudges when it touched a job, or may have (no events: a snapshot). */
  applied(change: AppliedChange): void {
    if (change.events.length === 0 || change.events.some((ev) => ev.key.startsWith(this.prefix))) this.nudge();
  }

  /**
   * Polls fast only while the leader has unfinished jobs, slowly on an idle leader, and not at all
   * on a follower: nudges start the work (an idle node woke 5, then 1, times a second: issue 4).
   */
  private schedule(ms: number | null): void {
    if (!this.started) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (ms === null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.running = true;
      void this.pass().finally(() => {
        this.running = false;
        const again = this.nudged;
        this.nudged = false;
        this.schedule(again ? 0 : !this.node.isLeader ? null : this.active ? this.pollMs : this.idlePollMs);
      });
    }, ms);
  }

  /** Validates and stores a queued job (through the leader); resolves with it. */
  async submit(kind: RaftJobKind, params: { target?: unknown; peer?: unknown }): Promise<RaftJob> {
    if (!RAFT_JOB_KINDS.includes(kind)) throw new JobInputError(`task_type: expected one of ${RAFT_JOB_KINDS.join(', ')}, got ${JSON.stringify(kind)}`);
    const p = kind === 'transfer_leader' ? { target: checkPeerId('target', params.target) } : { peer: checkPeerId('peer', params.peer) };
    const now = new Date().toISOString();
    const job: RaftJob = { id: randomUUID(), kind, state: 'queued', message: 'waiting for the raft leader', created_at: now, updated_at: now, params: p };
    const key = this.prefix + job.id;
    const r = await this.node.txn({ compare: [{ key, target: 'create', op: '==', value: 0 }], success: [{ kind: 'put', key, value: JSON.stringify(job) }], failure: [] });
    if (r.kind === 'error') throw new Error(`storing job ${job.id} failed: ${r.message}`);
    if (this.node.isLeader) this.nudge();
    return job;
  }

  /**
   * Leader: records that the core proposed removing the silent voter `peer` (conf entry at
   * `index`) as a running autoremove job; the runner marks it succeeded once `peer` is gone.
   */
  async recordAutoremove(peer: string, silentMs: number, index: number): Promise<RaftJob> {
    const now = new Date().toISOString();
    const message = `autoremove: ${peer} was silent for ${(silentMs / 1000).toFixed(1)} s; removal proposed at index ${index} by leader ${this.node.id}`;
    const job: RaftJob = { id: randomUUID(), kind: 'autoremove', state: 'running', message, created_at: now, updated_at: now, params: { peer, silent_ms: silentMs, index } };
    const r = await this.node.txn({ compare: [], success: [{ kind: 'put', key: this.prefix + job.id, value: JSON.stringify(job) }], failure: [] });
    if (r.kind === 'error') throw new Error(`storing autoremove job for ${peer} failed: ${r.message}`);
    return job;
  }

  /** Every stored job, oldest first (a linearizable read through the leader). */
  async list(): Promise<RaftJob[]> {
    return parseJobs((await this.node.range({ prefix: this.prefix })).kvs);
  }

  async get(id: string): Promise<RaftJob | null> {
    return parseJobs((await this.node.range({ key: this.prefix + id })).kvs)[0] ?? null;
  }

  /** One scheduling pass (leader only). Exposed for tests. */
  async pass(): Promise<void> {
    if (this.busy) return;
    if (!this.node.isLeader) { this.active = false; return; }
    this.busy = true;
    try {
      const all = parseJobs(this.node.kv.range({ prefix: this.prefix }).kvs);
      this.active = all.some((j) => j.state === 'queued' || j.state === 'running');
      await this.prune(all);
      for (const job of all) {
        if (job.state !== 'queued' && job.state !== 'running') continue;
        if (!this.node.isLeader) break;
        await this.step(job).catch((e: unknown) => this.log.warn({ job: job.id, err: e instanceof Error ? e.message : String(e) }, 'raft job step failed; will retry'));
      }
    } finally {
      this.busy = false;
    }
  }

  /** Keeps the newest KEEP_FINISHED finished jobs, so the replicated state does not grow forever. */
  private async prune(all: readonly RaftJob[]): Promise<void> {
    const finished = all.filter((j) => j.state === 'succeeded' || j.state === 'failed');
    const old = finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED));
    if (old.length === 0) return;
    await this.node.txn({ compare: [], success: old.map((j) => ({ kind: 'delete' as const, key: this.prefix + j.id })), failure: [] });
  }

  private async step(job: RaftJob): Promise<void> {
    const done = this.goalReached(job);
    if (done !== null) return this.update(job, 'succeeded', done);
    const invalid = this.invalid(job);
    if (invalid !== null) return this.update(job, 'failed', invalid);
    if (Date.now() - Date.parse(job.created_at) > this.timeoutMs) {
      return this.update(job, 'failed', `not finished within ${Math.round(this.timeoutMs / 1000)} s`);
    }
    // An autoremove job is never acted on: the core re-proposes the removal if the voter is still silent.
    if (job.kind === 'autoremove') return;
    const last = this.acted.get(job.id);
    if (last !== undefined && Date.now() - last < 3000) return;
    if (job.state === 'queued') await this.update(job, 'running', `started by leader ${this.node.id}`);
    this.acted.set(job.id, Date.now());
    try {
      await this.act(job);
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      // Another change still committing: retry soon. Anything else the leader refused is final.
      if (e instanceof Error && e.name === 'RaftRefusedError' && !msg.startsWith('conf-change-pending')) return this.update(job, 'failed', msg);
      this.acted.set(job.id, Date.now() - 2500);
    }
  }

  private act(job: RaftJob): Promise<void> {
    const conf = this.node.membership();
    const { peer, target } = job.params;
    if (job.kind === 'add_peer' && peer !== undefined) {
      // Already a learner: the leader promotes it by itself once it has caught up.
      return conf.learners.includes(peer) ? Promise.resolve() : this.node.addPeer(peer);
    }
    if (job.kind === 'remove_peer' && peer !== undefined) {
      // Removing ourselves while leading: hand leadership over first. Otherwise the survivors keep
      // a removed node as their leader until it steps down and an election times out (seen end to
      // end: 2.5 s with no DCS, and a PostgreSQL primary demoted). The successor then removes us
      // as an ordinary follower on its next pass (the job is idempotent).
      const successor = peer === this.node.id ? this.successor(conf) : null;
      return successor !== null ? this.node.transferLeader(successor) : this.node.removePeer(peer);
    }
    return this.node.transferLeader(target ?? '');
  }

  /**
   * The other voter to hand leadership to: among those heard from within SUCCESSOR_CONTACT_MS, the
   * most caught-up one; null when none qualifies (a transfer to a silent voter would only stall the
   * job until it timed out, so the leader then removes itself directly).
   */
  private successor(conf: ConfState): NodeId | null {
    const seen = new Map((this.node.describe?.().peers ?? []).map((p) => [p.id, p] as const));
    const live = conf.voters.filter((v) => {
      const contact = seen.get(v)?.last_contact_ms;
      return v !== this.node.id && contact !== null && contact !== undefined && contact <= SUCCESSOR_CONTACT_MS;
    });
    live.sort((a, b) => (seen.get(b)?.match_index ?? -1) - (seen.get(a)?.match_index ?? -1));
    return live[0] ?? null;
  }

  /** A success message when the job's goal already holds, else null. */
  private goalReached(job: RaftJob): string | null {
    const conf = this.node.membership();
    const { peer, target } = job.params;
    if (job.kind === 'add_peer' && peer !== undefined && conf.voters.includes(peer)) return `${peer} is a voter`;
    if ((job.kind === 'remove_peer' || job.kind === 'autoremove') && peer !== undefined && job.state === 'running' && !conf.voters.includes(peer) && !conf.learners.includes(peer)) {
      const why = job.kind === 'autoremove' ? ` (autoremove: it was silent for ${((job.params.silent_ms ?? 0) / 1000).toFixed(1)} s)` : '';
      return `${peer} is no longer a member${why}`;
    }
    if (job.kind === 'transfer_leader' && target === this.node.id) return `${target} is the leader`;
    return null;
  }

  /** A failure message when the job cannot be carried out at all, else null. */
  private invalid(job: RaftJob): string | null {
    const conf = this.node.membership();
    const { peer, target } = job.params;
    const members = [...conf.voters, ...conf.learners].join(', ');
    if (job.kind === 'remove_peer' && job.state === 'queued' && peer !== undefined && !conf.voters.includes(peer) && !conf.learners.includes(peer)) {
      return `${peer} is not a member (members: ${members})`;
    }
    if (job.kind === 'transfer_leader' && target !== undefined && !conf.voters.includes(target)) return `${target} is not a voter (voters: ${conf.voters.join(', ')})`;
    return null;
  }

  private async update(job: RaftJob, state: RaftJob['state'], message: string): Promise<void> {
    const next: RaftJob = { ...job, state, message, updated_at: new Date().toISOString() };
    const r = await this.node.txn({ compare: [], success: [{ kind: 'put', key: this.prefix + job.id, value: JSON.stringify(next) }], failure: [] });
    if (r.kind === 'error') throw new Error(`updating job ${job.id}: ${r.message}`);
    if (state === 'succeeded' || state === 'failed') this.acted.delete(job.id);
    this.log.info({ job: job.id, kind: job.kind, state, params: job.params }, `raft job ${state}: ${message}`);
  }
}

function parseJobs(kvs: readonly KeyValue[]): RaftJob[] {
  const out: RaftJob[] = [];
  for (const kv of kvs) {
    try {
      const j = JSON.parse(kv.value) as RaftJob;
      if (typeof j.id === 'string' && STORED_KINDS.includes(j.kind)) out.push(j);
    } catch {
      // A record we cannot read is skipped rather than failing the whole listing.
    }
  }
  return out.sort((a, b) => a.created_at.localeCompare(b.created_at));
}
