/**
 * Routing of client requests to the Raft leader: run here when this node leads, else forwarded
 * over the transport's RPC channel (JSON), retried every 50 ms after a failed attempt (a leader
 * change, a leader that is gone or no longer a peer) until the overall deadline. The leader side decodes forwarded requests and runs them locally.
 */
import { performance } from 'node:perf_hooks';
import type { ConfChange, NodeId } from './core/index.js';
import type { KvCommand, KvResult, RangeReply, TxnRequest } from './kv/index.js';
import { NoLeaderError } from './node-support.js';

/** A request carried out by the leader: here when this node leads, else forwarded over the RPC channel. */
export type LeaderOp =
  | { kind: 'propose'; cmd: KvCommand }
  | { kind: 'read'; target: { key: string } | { prefix: string }; keepalive?: number; lazy?: boolean }
  | { kind: 'readTxn'; request: TxnRequest }
  | { kind: 'keepalive'; id: number }
  | { kind: 'conf'; change: ConfChange }
  | { kind: 'transfer'; target: NodeId };

export type LeaderOpResult = KvResult | RangeReply | { refused: string };

/** What the router needs from the node. */
export interface RouterHost {
  readonly self: NodeId;
  readonly timeoutMs: number;
  /** The leader this node knows of, or null. */
  leader(): NodeId | null;
  closed(): boolean;
  /** Runs `op` on this node, which leads. */
  local(op: LeaderOp): Promise<LeaderOpResult>;
  /** Sends `payload` to `to`'s RPC handler and resolves with its answer. */
  request(to: NodeId, payload: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export class LeaderRouter {
  constructor(private readonly host: RouterHost) {}

  /**
   * Runs `op` on the leader. Rejects with NoLeaderError when no leader answered within the
   * host's timeout (none known, no quorum, leadership changed twice).
   */
  run<T>(op: LeaderOp): Promise<T> {
    const once = async (): Promise<T> => {
      const leader = await this.waitForLeader();
      if (leader === this.host.self) return (await this.host.local(op)) as T;
      const reply = await this.host.request(leader, enc.encode(JSON.stringify(op)), this.host.timeoutMs);
      return JSON.parse(dec.decode(reply)) as T;
    };
    const end = performance.now() + this.host.timeoutMs;
    const attempt = async (): Promise<T> => {
      try {
        return await once();
      } catch (e) {
        // Until the deadline: a removed or dead leader is replaced within an election timeout.
        if (this.host.closed() || performance.now() + 50 >= end) throw e;
        await new Promise((r) => setTimeout(r, 50));
        return attempt();
      }
    };
    return this.withTimeout(attempt(), op.kind);
  }

  /** A request forwarded by a follower: run it if this node (`isLeader`) still leads. */
  async serve(payload: Uint8Array, isLeader: boolean): Promise<Uint8Array> {
    const op = JSON.parse(dec.decode(payload)) as LeaderOp;
    if (!isLeader) throw new NoLeaderError('not the leader');
    return enc.encode(JSON.stringify(await this.host.local(op)));
  }

  private async waitForLeader(): Promise<NodeId> {
    const end = performance.now() + this.host.timeoutMs;
    while (!this.host.closed()) {
      const lead = this.host.leader();
      if (lead) return lead;
      if (performance.now() > end) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new NoLeaderError('no raft leader is known');
  }

  private withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
    const ms = this.host.timeoutMs;
    return new Promise<T>((resolve, reject) => {
      const t = setTimeout(() => reject(new NoLeaderError(`${what}: no answer from a raft leader within ${ms} ms`)), ms);
      p.then((v) => { clearTimeout(t); resolve(v); }, (e: unknown) => { clearTimeout(t); reject(e instanceof Error ? e : new Error(String(e))); });
    });
  }
}
