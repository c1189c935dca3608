/**
 * The requester's side of the RPC channel: a table of requests awaiting an answer. Each settles
 * exactly once: with the answer, a RemoteError, a RequestTimeoutError, or a PeerUnavailableError
 * (dropped before sending, connection lost after sending, transport closed).
 */
import type { NodeId } from '../core/types.js';
import { PeerUnavailableError, RemoteError, RequestTimeoutError, type UnavailableReason } from './errors.js';

interface Pending {
  readonly peer: NodeId;
  sent: boolean;
  readonly timer: NodeJS.Timeout;
  readonly resolve: (payload: Uint8Array) => void;
  readonly reject: (err: Error) => void;
}

export interface NewRequest {
  readonly id: number;
  readonly promise: Promise<Uint8Array>;
  /** Call when the request frame was written to the peer's connection. */
  readonly markSent: () => void;
  /** Call when the request frame was dropped before it was written. */
  readonly markDropped: () => void;
}

export class PendingRequests {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  get size(): number {
    return this.pending.size;
  }

  /** Registers a request to `peer` that times out after `timeoutMs`. */
  create(peer: NodeId, timeoutMs: number): NewRequest {
    const id = this.nextId;
    // Ids only need to be unique among requests in flight; wrap well inside the u64 safe range.
    this.nextId = this.nextId >= Number.MAX_SAFE_INTEGER ? 1 : this.nextId + 1;
    let resolve!: (payload: Uint8Array) => void;
    let reject!: (err: Error) => void;
    const promise = new Promise<Uint8Array>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const timer = setTimeout(() => this.settle(id, new RequestTimeoutError(peer, timeoutMs)), timeoutMs);
    this.pending.set(id, { peer, sent: false, timer, resolve, reject });
    return {
      id,
      promise,
      markSent: () => {
        const p = this.pending.get(id);
        if (p !== undefined) p.sent = true;
      },
      markDropped: () => this.settle(id, new PeerUnavailableError(peer, 'dropped')),
    };
  }

  /**
   * Settles request `id` with an answer that arrived from `from`. Returns false (and does
   * nothing) for an unknown id or an answer from another peer than the one asked.
   */
  answer(from: NodeId, id: number, result: { payload: Uint8Array } | { error: string }): boolean {
    const p = this.pending.get(id);
    if (p === undefined || p.peer !== from) return false;
    this.settle(id, 'payload' in result ? result.payload : new RemoteError(from, result.error));
    return true;
  }

  /** Fails every request already written to `peer`: the connection that carried it is gone. */
  failSent(peer: NodeId): void {
    for (const [id, p] of this.pending) {
      if (p.peer === peer && p.sent) this.settle(id, new PeerUnavailableError(peer, 'disconnected'));
    }
  }

  /** Fails every request to `peer` (or to anyone when peer is null) with `reason`. */
  failAll(peer: NodeId | null, reason: UnavailableReason): void {
    for (const [id, p] of this.pending) {
      if (peer === null || p.peer === peer) this.settle(id, new PeerUnavailableError(p.peer, reason));
    }
  }

  private settle(id: number, outcome: Uint8Array | Error): void {
    const p = this.pending.get(id);
    if (p === undefined) return;
    this.pending.delete(id);
    clearTimeout(p.timer);
    if (outcome instanceof Error) p.reject(outcome);
    else p.resolve(outcome);
  }
}
