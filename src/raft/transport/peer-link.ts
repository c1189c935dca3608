/**
 * The outbound half of the transport: one TCP connection to one peer, used to send that peer
 * Raft messages and RPC requests (and to read back RPC answers). It owns the bounded queue,
 * reconnects with jittered exponential backoff, and never throws into its caller.
 *
 * States: connecting (TCP connect + hello, waiting for hello-ack) -> open -> backoff -> ...;
 * `closed` is terminal. While the peer cannot be reached, every failed attempt drops what is
 * queued, so nothing sent to a dead peer is kept longer than one attempt (Raft resends anyway).
 */
import net from 'node:net';
import type { NodeId } from '../core/types.js';
import { DecodeError } from './errors.js';
import { decodeFrame, encodeFrame, FrameDecoder, PROTOCOL_VERSION, type Frame } from './frame.js';
import { BoundedQueue, type QueuedFrame } from './queue.js';
import type { ResolvedOptions } from './options.js';
import type { PeerAddress, PeerStats } from './types.js';

/** The transport's resolved settings a link uses, plus its own peer and callbacks. */
export interface PeerLinkDeps extends Pick<ResolvedOptions,
  'self' | 'log' | 'clock' | 'rng' | 'reconnectBaseMs' | 'reconnectMaxMs' | 'handshakeTimeoutMs' | 'maxFrameBytes' | 'maxQueueItems' | 'maxQueueBytes'> {
  readonly peer: NodeId;
  readonly address: PeerAddress;
  readonly token: string | null;
  /** An RPC answer arrived on this link. */
  readonly onAnswer: (peer: NodeId, frame: Extract<Frame, { kind: 'response' | 'response-error' }>) => void;
  /** The connection closed; requests already written on it can no longer be answered. */
  readonly onDisconnect: (peer: NodeId) => void;
}

/** The peer answered our hello with a reject frame (bad token, wrong node, other version). */
class HandshakeRefusedError extends Error {}

function isPowerOfTen(n: number): boolean {
  let p = 1;
  while (p < n) p *= 10;
  return p === n;
}

type State = 'idle' | 'connecting' | 'open' | 'backoff' | 'closed';

export class PeerLink {
  private state: State = 'idle';
  private socket: net.Socket | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly queue: BoundedQueue;
  private failures = 0;
  private extraDrops = 0;
  private waitingDrain = false;
  private flushScheduled = false;
  private lastContact: number | null = null;

  constructor(private readonly d: PeerLinkDeps) {
    this.queue = new BoundedQueue(d.maxQueueItems, d.maxQueueBytes);
  }

  get address(): PeerAddress {
    return this.d.address;
  }

  /** Starts connecting (idempotent). */
  start(): void {
    if (this.state === 'idle') this.connect();
  }

  /** Queues an encoded frame; it is written once connected, or dropped per the queue's rules. */
  enqueue(item: QueuedFrame): void {
    if (this.state === 'closed') {
      this.extraDrops++;
      item.onDrop?.();
      return;
    }
    this.queue.push(item);
    if (this.state === 'open') this.scheduleFlush();
  }

  /** Counts a frame the caller refused to enqueue (e.g. too large) as a drop of this peer. */
  countDrop(): void {
    this.extraDrops++;
  }

  noteContact(): void {
    this.lastContact = this.d.clock.now();
  }

  stats(): PeerStats {
    return {
      id: this.d.peer,
      address: this.d.address,
      connected: this.state === 'open',
      lastContactMs: this.lastContact,
      queueLength: this.queue.length,
      queueBytes: this.queue.bytes,
      drops: this.queue.drops + this.extraDrops,
      failedAttempts: this.failures,
    };
  }

  /** Stops for good: closes the socket, cancels timers and drops what is queued. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.clearTimer();
    const s = this.socket;
    this.socket = null;
    s?.destroy();
    this.queue.dropAll();
  }

  private connect(): void {
    this.state = 'connecting';
    const { host, port } = this.d.address;
    const socket = net.connect({ host, port });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 5_000);
    const decoder = new FrameDecoder(this.d.maxFrameBytes);
    let lastError: Error | null = null;
    this.setTimer(this.d.handshakeTimeoutMs, () => {
      lastError = new Error(`no handshake answer within ${this.d.handshakeTimeoutMs} ms`);
      socket.destroy();
    });
    socket.on('connect', () => {
      socket.write(encodeFrame({ kind: 'hello', version: PROTOCOL_VERSION, from: this.d.self, to: this.d.peer, token: this.d.token }));
    });
    socket.on('data', (chunk: Buffer) => {
      if (socket !== this.socket) return;
      try {
        for (const raw of decoder.push(chunk)) {
          this.onFrame(decodeFrame(raw));
          if (socket !== this.socket) return;
        }
      } catch (err) {
        lastError = err instanceof Error ? err : new Error(String(err));
        // A refusal is reported by logFailure with the other failed attempts.
        if (!(err instanceof HandshakeRefusedError)) {
          const level = err instanceof DecodeError ? 'warn' : 'error';
          this.d.log[level]({ peer: this.d.peer, err: lastError.message }, 'raft transport: bad frame from peer, closing connection');
        }
        socket.destroy();
      }
    });
    socket.on('drain', () => {
      this.waitingDrain = false;
      this.scheduleFlush();
    });
    socket.on('error', (err) => {
      lastError = err;
    });
    socket.on('close', () => {
      if (socket === this.socket) this.onClosed(lastError);
    });
  }

  private onFrame(frame: Frame): void {
    this.noteContact();
    if (this.state === 'connecting') {
      if (frame.kind === 'hello-ack' && frame.node === this.d.peer) return this.onOpen();
      if (frame.kind === 'reject') throw new HandshakeRefusedError(`peer refused the handshake: ${frame.reason}`);
      throw new DecodeError(frame.kind === 'hello-ack'
        ? `the node at this address is "${frame.node}", not "${this.d.peer}"`
        : `expected hello-ack, got ${frame.kind}`);
    }
    if (frame.kind === 'response' || frame.kind === 'response-error') return this.d.onAnswer(this.d.peer, frame);
    throw new DecodeError(`unexpected ${frame.kind} frame on an outbound connection`);
  }

  private onOpen(): void {
    this.clearTimer();
    if (this.failures > 0) {
      this.d.log.info({ peer: this.d.peer, failedAttempts: this.failures }, 'raft transport: connected to peer');
    } else {
      this.d.log.debug({ peer: this.d.peer }, 'raft transport: connected to peer');
    }
    this.failures = 0;
    this.state = 'open';
    this.scheduleFlush();
  }

  private onClosed(err: Error | null): void {
    const wasOpen = this.state === 'open';
    this.socket = null;
    this.waitingDrain = false;
    this.clearTimer();
    this.d.onDisconnect(this.d.peer);
    if (this.state === 'closed') return;
    if (wasOpen) {
      this.d.log.warn({ peer: this.d.peer, err: err?.message ?? 'closed by peer' }, 'raft transport: lost connection to peer');
    } else {
      this.failures++;
      // The peer is unreachable: do not hold messages for it (Raft resends what still matters).
      const dropped = this.queue.dropAll();
      this.logFailure(err, dropped);
    }
    this.state = 'backoff';
    this.setTimer(this.backoffMs(), () => this.connect());
  }

  /**
   * Logged at the first failure and then once per power of ten, so a long outage costs a few
   * lines, not one per attempt (DESIGN.md: logging of repeated failures).
   */
  private logFailure(err: Error | null, dropped: number): void {
    const n = this.failures;
    const fields = { peer: this.d.peer, address: `${this.d.address.host}:${this.d.address.port}`, err: err?.message ?? 'closed', failedAttempts: n, dropped };
    if (isPowerOfTen(n)) this.d.log.warn(fields, 'raft transport: cannot reach peer, retrying with backoff');
    else this.d.log.debug(fields, 'raft transport: cannot reach peer');
  }

  /** base x 2^(failures-1), capped, with +-20% jitter so restarted nodes do not retry in step. */
  private backoffMs(): number {
    const exp = Math.min(Math.max(this.failures - 1, 0), 30);
    const raw = Math.min(this.d.reconnectMaxMs, this.d.reconnectBaseMs * 2 ** exp);
    return Math.round(raw * (0.8 + (0.4 * this.d.rng.intBelow(1001)) / 1000));
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    // A microtask batches every send() of the current turn (one Ready) into one corked write.
    queueMicrotask(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const s = this.socket;
    if (this.state !== 'open' || s === null || this.waitingDrain) return;
    s.cork();
    try {
      for (let item = this.queue.shift(); item !== undefined; item = this.queue.shift()) {
        const more = s.write(item.bytes);
        item.onSent?.();
        if (!more) {
          // Kernel and socket buffers are full: further sends wait in the bounded queue.
          this.waitingDrain = true;
          break;
        }
      }
    } finally {
      s.uncork();
    }
  }

  private setTimer(ms: number, fn: () => void): void {
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = null;
      fn();
    }, ms);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
