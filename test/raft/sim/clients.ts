/**
 * Simulated clients: each has at most one operation outstanding, sends writes (put, cas) as
 * proposals and reads (get) through read-index, and records invoke/response events as a history
 * for the linearizability checker. An operation whose outcome is unknown (timeout, node crash)
 * is kept with an open end if it was a write and dropped if it was a read (reads change nothing).
 */
import type { NodeId, ReadState } from '../../../src/raft/core/types.js';
import type { SimCluster } from './cluster.js';
import type { KvInput, KvOutput } from './kv.js';
import type { KvOperation } from './kv-model.js';
import type { SimNode } from './sim-node.js';

interface Pending {
  readonly opId: number;
  readonly client: number;
  readonly input: KvInput;
  readonly call: number;
  readonly node: NodeId;
  readonly incarnation: number;
  readonly deadline: number;
  readonly viaReadIndex: boolean;
  readIndex: number | null;
}

const KEYS = ['x', 'y'];

export class SimClients {
  readonly history: KvOperation[] = [];
  private readonly pending = new Map<number, Pending>();
  private readonly busy = new Set<number>();
  private nextOp = 1;
  /** Logical time for the history: strictly increasing over invoke and response events. */
  private clock = 0;
  completed = 0;

  constructor(
    private readonly cluster: SimCluster,
    private readonly count: number,
    private readonly timeoutTicks = 40,
  ) {
    cluster.clients = {
      applied: (node, opId, output) => this.onApplied(node, opId, output),
      readState: (node, rs) => this.onReadState(node, rs),
    };
  }

  /** Called once per tick: maybe start operations, finish reads, expire timeouts. */
  step(startProbability: number): void {
    const c = this.cluster;
    for (const p of [...this.pending.values()]) {
      const node = c.nodes.get(p.node);
      const lost = node === undefined || !node.alive || node.incarnation !== p.incarnation;
      if (lost || c.now >= p.deadline) this.giveUp(p);
      else if (p.readIndex !== null && node.applied >= p.readIndex) this.respond(p, node.kv.get(p.input.key));
    }
    for (let client = 0; client < this.count; client++) {
      if (!this.busy.has(client) && c.rng.chance(startProbability)) this.start(client);
    }
  }

  private start(client: number): void {
    const c = this.cluster;
    const alive = c.alive();
    if (alive.length === 0) return;
    const leader = c.leader();
    const node = leader !== null && c.rng.chance(0.8) ? leader : c.rng.pick(alive);
    const opId = this.nextOp++;
    const key = c.rng.pick(KEYS);
    const roll = c.rng.intBelow(3);
    const input: KvInput =
      roll === 0
        ? { kind: 'put', key, value: `v${opId}` }
        : roll === 1
          ? { kind: 'cas', key, expected: c.rng.chance(0.3) ? null : `v${Math.max(1, opId - 1 - c.rng.intBelow(4))}`, value: `v${opId}` }
          : { kind: 'get', key };
    const viaReadIndex = input.kind === 'get' && c.rng.chance(0.7);
    const call = ++this.clock;
    if (viaReadIndex) {
      // Half of them lazy (no heartbeat round of their own: the next periodic one confirms them).
      node.raw!.readIndex(`r${opId}`, { lazy: c.rng.chance(0.5) });
    } else {
      const res = c.propose(node.id, { id: opId, input });
      // A refused proposal never reached the log: the operation did not happen.
      if (!res.accepted) return;
    }
    const p: Pending = { opId, client, input, call, node: node.id, incarnation: node.incarnation, deadline: c.now + this.timeoutTicks, viaReadIndex, readIndex: null };
    this.pending.set(opId, p);
    this.busy.add(client);
  }

  private onApplied(node: SimNode, opId: number, output: KvOutput): void {
    const p = this.pending.get(opId);
    if (p !== undefined && p.node === node.id && p.incarnation === node.incarnation) this.respond(p, output);
  }

  private onReadState(node: SimNode, rs: ReadState): void {
    const p = this.pending.get(Number(rs.ctx.slice(1)));
    if (p === undefined || !p.viaReadIndex || p.node !== node.id || p.incarnation !== node.incarnation) return;
    p.readIndex = rs.index;
    if (node.applied >= rs.index) this.respond(p, node.kv.get(p.input.key));
  }

  private respond(p: Pending, output: KvOutput): void {
    this.pending.delete(p.opId);
    this.busy.delete(p.client);
    this.history.push({ client: p.client, input: p.input, output, call: p.call, ret: ++this.clock });
    this.completed++;
    this.cluster.log(`client ${p.client} op ${p.opId} ${JSON.stringify(p.input)} -> ${JSON.stringify(output)}`);
  }

  private giveUp(p: Pending): void {
    this.pending.delete(p.opId);
    this.busy.delete(p.client);
    if (p.input.kind !== 'get') this.history.push({ client: p.client, input: p.input, output: undefined, call: p.call, ret: Infinity });
    this.cluster.log(`client ${p.client} op ${p.opId} ${JSON.stringify(p.input)} -> unknown`);
  }

  /** Abandons everything still outstanding (end of run). */
  finish(): void {
    for (const p of [...this.pending.values()]) this.giveUp(p);
  }
}
