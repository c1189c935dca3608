/**
 * The inbound half of the transport: one accepted TCP connection. Its first frame must be a
 * hello naming a sender, this node as target, our protocol version and the cluster token; then
 * it carries Raft messages and RPC requests from that sender, and RPC answers back to it.
 *
 * Invariant: whatever arrives (garbage, a huge length, an unknown type, a message claiming
 * another sender), the damage is limited to this connection: it is logged and destroyed.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type net from 'node:net';
import type { Message, NodeId } from '../core/types.js';
import { DecodeError } from './errors.js';
import { decodeFrame, encodeFrame, FrameDecoder, PROTOCOL_VERSION, type Frame } from './frame.js';
import type { TransportLogger } from './types.js';

/** What an inbound connection needs from the transport that accepted it. */
export interface InboundHost {
  readonly self: NodeId;
  readonly token: string | null;
  readonly maxFrameBytes: number;
  readonly handshakeTimeoutMs: number;
  readonly log: TransportLogger;
  /** The handshake succeeded; the host may close an older connection from the same node. */
  accepted(conn: InboundConnection): void;
  refused(): void;
  malformed(): void;
  closed(conn: InboundConnection): void;
  contact(from: NodeId): void;
  message(from: NodeId, msg: Message): void;
  /** `reply` writes the answer frame on this connection (a no-op once it is closed). */
  request(from: NodeId, id: number, payload: Uint8Array, reply: (frame: Frame) => void): void;
}

/** Compares tokens in constant time (digests first, so lengths do not leak either). */
function tokensMatch(expected: string | null, got: string | null): boolean {
  if (expected === null || got === null) return expected === got;
  const a = createHash('sha256').update(expected).digest();
  const b = createHash('sha256').update(got).digest();
  return timingSafeEqual(a, b);
}

export class InboundConnection {
  /** The authenticated sender, once the handshake is done. */
  peer: NodeId | null = null;
  private readonly decoder: FrameDecoder;
  private readonly remote: string;
  private handshakeTimer: NodeJS.Timeout | null;
  private done = false;

  constructor(
    private readonly socket: net.Socket,
    private readonly host: InboundHost,
  ) {
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.decoder = new FrameDecoder(host.maxFrameBytes);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, 5_000);
    this.handshakeTimer = setTimeout(() => {
      host.log.warn({ remote: this.remote }, 'raft transport: no handshake from inbound connection in time, closing it');
      this.destroy();
    }, host.handshakeTimeoutMs);
    this.handshakeTimer.unref();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (err) => host.log.debug({ remote: this.remote, peer: this.peer, err: err.message }, 'raft transport: inbound connection error'));
    socket.on('close', () => this.onClose());
  }

  /** Closes the connection at once. */
  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.done) return;
    try {
      for (const raw of this.decoder.push(chunk)) {
        this.onFrame(decodeFrame(raw));
        if (this.done) return;
      }
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (err instanceof DecodeError) {
        this.host.malformed();
        this.host.log.warn({ remote: this.remote, peer: this.peer, err: message }, 'raft transport: malformed frame, closing that connection');
      } else {
        this.host.log.error({ remote: this.remote, peer: this.peer, err: message }, 'raft transport: failed to handle a frame, closing that connection');
      }
      this.destroy();
      this.done = true;
    }
  }

  private onFrame(frame: Frame): void {
    if (this.peer === null) return this.onHello(frame);
    this.host.contact(this.peer);
    switch (frame.kind) {
      case 'raft':
        if (frame.message.from !== this.peer || frame.message.to !== this.host.self) {
          throw new DecodeError(`message from "${frame.message.from}" to "${frame.message.to}" on the connection of "${this.peer}" to "${this.host.self}"`);
        }
        return this.host.message(this.peer, frame.message);
      case 'request':
        return this.host.request(this.peer, frame.id, frame.payload, (answer) => this.reply(answer));
      default:
        throw new DecodeError(`unexpected ${frame.kind} frame on an inbound connection`);
    }
  }

  private onHello(frame: Frame): void {
    if (frame.kind !== 'hello') throw new DecodeError(`expected hello as the first frame, got ${frame.kind}`);
    const reason = this.refusal(frame);
    if (reason !== null) {
      this.host.refused();
      // The token itself is never logged or echoed, only that it did not match.
      this.host.log.warn({ remote: this.remote, from: frame.from, reason }, 'raft transport: refused inbound connection');
      this.done = true;
      this.socket.end(encodeFrame({ kind: 'reject', reason }));
      // end() waits for the peer; do not let a silent peer hold the socket open.
      setTimeout(() => this.destroy(), 1_000).unref();
      return;
    }
    this.clearHandshakeTimer();
    this.peer = frame.from;
    this.reply({ kind: 'hello-ack', node: this.host.self });
    this.host.accepted(this);
    this.host.contact(frame.from);
    this.host.log.debug({ remote: this.remote, peer: frame.from }, 'raft transport: accepted inbound connection');
  }

  private refusal(hello: Extract<Frame, { kind: 'hello' }>): string | null {
    if (hello.version !== PROTOCOL_VERSION) return `protocol version ${hello.version} is not supported (this node speaks ${PROTOCOL_VERSION})`;
    if (!tokensMatch(this.host.token, hello.token)) return 'cluster token mismatch';
    if (hello.to !== this.host.self) return `this node is "${this.host.self}", not "${hello.to}"`;
    if (hello.from === this.host.self) return `the sender claims this node's own id "${hello.from}"`;
    return null;
  }

  private reply(frame: Frame): void {
    if (this.socket.destroyed || this.socket.writableEnded) return;
    try {
      this.socket.write(encodeFrame(frame));
    } catch (err) {
      // Answers are written after an await: nothing above could catch this, so log it here.
      this.host.log.error({ remote: this.remote, peer: this.peer, err: err instanceof Error ? err.message : String(err) }, 'raft transport: cannot encode answer, closing that connection');
      this.destroy();
    }
  }

  private onClose(): void {
    this.clearHandshakeTimer();
    this.done = true;
    this.host.closed(this);
  }

  private clearHandshakeTimer(): void {
    if (this.handshakeTimer !== null) clearTimeout(this.handshakeTimer);
    this.handshakeTimer = null;
  }
}
