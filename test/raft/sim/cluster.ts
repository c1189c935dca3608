/**
 * A simulated cluster: nodes, a fake clock counted in ticks, the lossy network, and the safety
 * checker wired into every Ready. Unit tests drive it step by step; random-run.ts drives it with
 * faults and clients. Every notable event is appended to `trail` for failure reports.
 */
import { describeEvent, describeMessage } from '../../../src/raft/core/describe.js';
import { MemoryStorage } from '../../../src/raft/core/storage.js';
import type { ConfChange, Entry, NodeId, ProposeResult, RaftEvent, ReadState } from '../../../src/raft/core/types.js';
import { SafetyChecker, entryKey } from './invariants.js';
import { encodeCommand, KvStore, type KvCommand, type KvOutput } from './kv.js';
import { SimNetwork, type NetworkFaults } from './network.js';
import { Prng } from './prng.js';
import { SimNode, type CrashPoint, type NodeOptions, type ReadyHooks } from './sim-node.js';

export interface ClusterOptions {
  readonly seed: number;
  readonly voters: number;
  readonly node?: Partial<NodeOptions>;
  readonly faults?: Partial<NetworkFaults>;
  readonly snapshotEvery?: number;
  /** Record every message in the trail (verbose; for replaying one seed). */
  readonly traceMessages?: boolean;
}

/** Callbacks a client layer registers to hear about applied commands and read states. */
export interface ClientHooks {
  applied(node: SimNode, opId: number, output: KvOutput): void;
  readState(node: SimNode, rs: ReadState): void;
}

export const DEFAULT_NODE: NodeOptions = { electionTicks: 10, heartbeatTicks: 2, replicationRetryTicks: 4 };

export class SimCluster {
  readonly rng: Prng;
  readonly net: SimNetwork;
  readonly nodes = new Map<NodeId, SimNode>();
  readonly checker = new SafetyChecker();
  readonly trail: string[] = [];
  readonly events: Array<{ node: NodeId; event: RaftEvent }> = [];
  now = 0;
  clients: ClientHooks | null = null;
  private nextId: number;
  private readonly nodeOptions: NodeOptions;
  private readonly hooks: ReadyHooks;
  /** Nodes set to die inside their next Ready (see armCrash). */
  private readonly armed = new Map<NodeId, { point: CrashPoint; until: number }>();

  constructor(private readonly opts: ClusterOptions) {
    this.rng = new Prng(opts.seed);
    this.net = new SimNetwork(this.rng.fork(), { drop: 0, duplicate: 0, maxDelay: 1, ...opts.faults });
    this.nodeOptions = { ...DEFAULT_NODE, ...opts.node };
    const ids = Array.from({ length: opts.voters }, (_, i) => `n${i + 1}`);
    this.nextId = opts.voters + 1;
    for (const id of ids) this.startNode(this.addNode(id, MemoryStorage.bootstrap(ids, new KvStore().serialize())));
    this.hooks = this.makeHooks();
  }

  log(line: string): void {
    this.trail.push(`t=${this.now} ${line}`);
  }

  node(id: NodeId): SimNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  alive(): SimNode[] {
    return [...this.nodes.values()].filter((n) => n.alive);
  }

  /** The live leader with the highest term, if any. */
  leader(): SimNode | null {
    let best: SimNode | null = null;
    for (const n of this.alive()) {
      const s = n.raw!.basicStatus();
      if (s.role === 'leader' && (best === null || s.term > best.raw!.basicStatus().term)) best = n;
    }
    return best;
  }

  private addNode(id: NodeId, disk: MemoryStorage): SimNode {
    const n = new SimNode(id, disk, this.nodeOptions, this.rng.fork(), this.opts.snapshotEvery ?? 20);
    this.nodes.set(id, n);
    return n;
  }

  /** Starts a blank node (not yet a member) and returns its id; add it with proposeConfChange. */
  spawn(): NodeId {
    const id = `n${this.nextId++}`;
    this.startNode(this.addNode(id, new MemoryStorage()));
    this.log(`spawn ${id}`);
    return id;
  }

  crash(id: NodeId): void {
    this.node(id).crash();
    this.log(`crash ${id}`);
  }

  restart(id: NodeId): void {
    this.startNode(this.node(id));
    this.log(`restart ${id}`);
  }

  /** A (re)started node re-applies its log from its snapshot. */
  private startNode(n: SimNode): void {
    n.start();
    this.checker.restored(n.id, n.disk.snapshot().index);
  }

  propose(id: NodeId, cmd: KvCommand): ProposeResult {
    return this.node(id).raw!.propose(encodeCommand(cmd));
  }

  proposeConfChange(id: NodeId, change: ConfChange): ProposeResult {
    const res = this.node(id).raw!.proposeConfChange(change);
    this.log(`${id} propose ${change.kind} ${change.node}: ${res.accepted ? `index ${res.index}` : res.reason}`);
    return res;
  }

  /**
   * Makes `id` die at `point` inside the next Ready it processes within `ticks` ticks, or plainly
   * after them: a crash in the middle of real work, not between two idle moments.
   */
  armCrash(id: NodeId, point: CrashPoint, ticks: number): void {
    this.armed.set(id, { point, until: this.now + ticks });
  }

  /** Cancels every armed crash (the faults are over). */
  disarm(): void {
    this.armed.clear();
  }

  /** One tick: every live node ticks, due messages are delivered, then all Readies are processed. */
  tick(): void {
    this.now++;
    for (const n of this.alive()) n.raw!.tick();
    this.drain();
    for (const m of this.net.due(this.now)) {
      const to = this.nodes.get(m.to);
      if (to === undefined || !to.alive) continue;
      if (this.opts.traceMessages === true) this.log(`deliver ${describeMessage(m)}`);
      to.raw!.step(m);
      this.drainNode(to);
    }
    for (const [id, a] of [...this.armed]) {
      if (a.until > this.now) continue;
      this.armed.delete(id);
      if (this.node(id).alive) this.crash(id);
    }
  }

  ticks(n: number): void {
    for (let i = 0; i < n; i++) this.tick();
  }

  /** Ticks until `pred` holds; returns the number of ticks taken, or null after `max`. */
  tickUntil(pred: () => boolean, max: number): number | null {
    for (let i = 0; i < max; i++) {
      if (pred()) return i;
      this.tick();
    }
    return pred() ? max : null;
  }

  /**
   * Processes Readies until no live node has one. Messages always travel through the network
   * (at least one tick), so processing one node's Ready never creates work for another.
   */
  drain(victim: NodeId | null = null, crash: CrashPoint = 'after-persist'): void {
    for (const n of [...this.nodes.values()].sort((a, b) => (a.id < b.id ? -1 : 1))) this.drainNode(n, n.id === victim ? crash : 'none');
  }

  drainNode(n: SimNode, crash: CrashPoint = 'none'): void {
    while (n.alive && n.raw!.hasReady()) {
      const armed = this.armed.get(n.id);
      if (armed !== undefined) {
        this.armed.delete(n.id);
        this.log(`crash ${n.id} ${armed.point} in a Ready`);
        crash = armed.point;
      }
      n.processReady(this.hooks, crash);
      const s = n.raw?.basicStatus();
      if (s?.role === 'leader') this.checker.leader(n.id, s.term);
    }
  }

  private makeHooks(): ReadyHooks {
    return {
      send: (m) => this.net.send(m, this.now),
      appended: (node, e) => this.checker.appended(node.id, e, node.disk.term(e.index - 1)),
      committed: (node, from, to) => {
        for (let i = Math.max(from, node.disk.firstIndex()); i <= to; i++) {
          const e = node.disk.entries(i, i + 1)?.[0];
          if (e !== undefined) this.checker.committedEntry(node.id, i, e.term, entryKey(e));
        }
      },
      restored: (node, index) => {
        this.checker.restored(node.id, index);
        this.checker.committedEntry(node.id, index, node.disk.snapshot().term, null);
        this.log(`${node.id} installed snapshot at ${index}`);
      },
      applied: (node, e, output, opId) => {
        this.checker.applied(node.id, e);
        if (opId !== null && output !== null) this.clients?.applied(node, opId, output);
      },
      readState: (node, rs) => this.clients?.readState(node, rs),
      event: (node, ev) => this.onEvent(node, ev),
    };
  }

  private onEvent(node: SimNode, ev: RaftEvent): void {
    this.events.push({ node: node.id, event: ev });
    this.log(`${node.id} ${describeEvent(ev)}`);
    if (ev.kind === 'became-leader') {
      const first = node.disk.firstIndex();
      this.checker.leaderHoldsCommitted(node.id, first, (i) => (i <= node.disk.lastIndex() ? node.disk.term(i) : null));
    }
  }

  /** Entry `index` as stored on `id`'s disk (undefined if absent or compacted). */
  storedEntry(id: NodeId, index: number): Entry | undefined {
    const d = this.node(id).disk;
    if (index < d.firstIndex() || index > d.lastIndex()) return undefined;
    return d.entries(index, index + 1)?.[0];
  }
}
