/**
 * TcpTransport: carries Raft messages and forwarded client requests between nodes over TCP.
 *
 * - One outbound connection per peer (PeerLink) sends messages and requests; the peer answers
 *   requests on that same connection. Inbound connections (InboundConnection) receive.
 * - send() never blocks or throws: it enqueues on a bounded per-peer queue; Raft tolerates the
 *   loss when the queue overflows or the peer is down, and every drop is counted.
 * - The listener binds only the configured host.
 * - A malformed frame closes only the connection that carried it.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Message, NodeId } from '../core/types.js';
import { EncodeError, PeerUnavailableError, TransportConfigError } from './errors.js';
import { HEADER_BYTES, encodeFrame, type Frame } from './frame.js';
import { InboundConnection, type InboundHost } from './inbound.js';
import { PeerLink } from './peer-link.js';
import { PendingRequests } from './rpc.js';
import type {
  MessageHandler, PeerAddress, RequestHandler, TcpTransportOptions, TransportStats,
} from './types.js';
import { validateOptions, validatePeers, type ResolvedOptions } from './options.js';

const MAX_INBOUND_CONNECTIONS = 1024;

export class TcpTransport {
  private readonly o: ResolvedOptions;
  private readonly links = new Map<NodeId, PeerLink>();
  private readonly inbound = new Set<InboundConnection>();
  private readonly rpc = new PendingRequests();
  private server: net.Server | null = null;
  private bound: PeerAddress | null = null;
  private messageHandler: MessageHandler | null = null;
  private requestHandler: RequestHandler | null = null;
  private peerDownHandler: ((peer: NodeId) => void) | null = null;
  private state: 'new' | 'started' | 'closed' = 'new';
  private refused = 0;
  private malformed = 0;
  private unknownPeerDrops = 0;
  private readonly traffic = { messagesSent: 0, messagesReceived: 0, requestsSent: 0, requestsServed: 0 };
  private readonly host: InboundHost;

  /** Throws TransportConfigError for invalid options (naming the option and the value). */
  constructor(options: TcpTransportOptions) {
    this.o = validateOptions(options, { now: () => performance.now() });
    this.host = this.inboundHost();
  }

  /** The address actually bound (useful with port 0), or null when not listening. */
  get address(): PeerAddress | null {
    return this.bound;
  }

  /** Listens on the configured host and port, then starts connecting to every peer. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new TransportConfigError('start() may be called only once, before close()');
    const server = net.createServer((socket) => this.accept(socket));
    // Peers need one connection each; the cap only stops a connection flood from exhausting fds.
    server.maxConnections = MAX_INBOUND_CONNECTIONS;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // `host` is always given, so Node never falls back to every interface.
      server.listen({ host: this.o.listen.host, port: this.o.listen.port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (err) => this.o.log.error({ err: err.message }, 'raft transport: listener error'));
    const addr = server.address() as net.AddressInfo;
    this.server = server;
    this.bound = { host: addr.address, port: addr.port };
    this.state = 'started';
    this.o.log.info({ self: this.o.self, host: addr.address, port: addr.port }, 'raft transport: listening');
    this.setPeers(this.o.peers);
  }

  /** Registers the single receiver of Raft messages (a later call replaces it). */
  onMessage(handler: MessageHandler): void {
    this.messageHandler = handler;
  }

  /**
   * Registers the single listener told each time the outbound link to a peer closes or a
   * connection attempt to it fails (a later call replaces it).
   */
  onPeerDown(handler: (peer: NodeId) => void): void {
    this.peerDownHandler = handler;
  }

  /** Registers the single server of forwarded requests (a later call replaces it). */
  onRequest(handler: RequestHandler): void {
    this.requestHandler = handler;
  }

  /**
   * Queues `msg` for `to` and returns at once. Never throws: a message for an unknown peer, not
   * addressed from this node to `to`, too large for a frame, or not encodable is logged and
   * counted as dropped. Before start() every peer is unknown.
   */
  send(to: NodeId, msg: Message): void {
    if (this.state === 'closed') return;
    const link = this.links.get(to);
    if (link === undefined) {
      this.unknownPeerDrops++;
      this.o.log.debug({ to, type: msg.type }, 'raft transport: message for an unknown peer dropped');
      return;
    }
    if (msg.to !== to || msg.from !== this.o.self) {
      // The receiver would treat this as a protocol violation and close the whole connection.
      this.o.log.error({ to, msgFrom: msg.from, msgTo: msg.to, type: msg.type }, 'raft transport: message addressed inconsistently, dropped');
      return link.countDrop();
    }
    this.traffic.messagesSent++;
    const bytes = this.encodeOrDrop({ kind: 'raft', message: msg }, to);
    if (bytes === null) return link.countDrop();
    link.enqueue({ bytes });
  }

  /**
   * Sends `payload` to `to`'s request handler and resolves with its answer. Rejects with
   * RequestTimeoutError, RemoteError (the handler failed; its message only), or
   * PeerUnavailableError (unknown peer, dropped, connection lost, transport closed).
   */
  request(to: NodeId, payload: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      return Promise.reject(new TransportConfigError(`request timeoutMs must be a positive number of milliseconds, got ${timeoutMs}`));
    }
    if (this.state === 'closed') return Promise.reject(new PeerUnavailableError(to, 'closed'));
    const link = this.links.get(to);
    if (link === undefined) return Promise.reject(new PeerUnavailableError(to, 'unknown-peer'));
    this.traffic.requestsSent++;
    const req = this.rpc.create(to, timeoutMs);
    const bytes = this.encodeOrDrop({ kind: 'request', id: req.id, payload }, to);
    if (bytes === null) {
      link.countDrop();
      req.markDropped();
    } else {
      link.enqueue({ bytes, onSent: req.markSent, onDrop: req.markDropped });
    }
    return req.promise;
  }

  /**
   * Replaces the peer set (membership change). Removed peers are disconnected and their queued
   * frames and pending requests dropped; a peer whose address changed is reconnected; new
   * peers are connected at once. Before start() it only records the map.
   */
  setPeers(peers: ReadonlyMap<NodeId, PeerAddress>): void {
    if (this.state === 'closed') return;
    const next = validatePeers(this.o.self, peers);
    for (const [id, link] of this.links) {
      const addr = next.get(id);
      if (addr === undefined || addr.host !== link.address.host || addr.port !== link.address.port) {
        this.rpc.failAll(id, addr === undefined ? 'unknown-peer' : 'disconnected');
        link.close();
        this.links.delete(id);
      }
    }
    this.o.peers = next;
    if (this.state !== 'started') return;
    for (const [id, addr] of next) {
      if (this.links.has(id)) continue;
      const link = new PeerLink({
        ...this.o,
        peer: id,
        address: addr,
        token: this.o.clusterToken,
        onAnswer: (peer, f) => this.onAnswer(peer, f),
        onDisconnect: (peer) => { this.rpc.failSent(peer); this.peerDownHandler?.(peer); },
      });
      this.links.set(id, link);
      link.start();
    }
  }

  /** A snapshot of connection state for GET /raft. */
  stats(): TransportStats {
    return {
      self: this.o.self,
      listening: this.bound,
      peers: [...this.links.values()].map((l) => l.stats()),
      inboundConnections: [...this.inbound].filter((c) => c.peer !== null).length,
      refusedConnections: this.refused,
      malformedFrames: this.malformed,
      unknownPeerDrops: this.unknownPeerDrops,
      traffic: { ...this.traffic },
    };
  }

  /** Stops listening, closes every connection and rejects pending requests. Idempotent. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.rpc.failAll(null, 'closed');
    for (const link of this.links.values()) link.close();
    this.links.clear();
    for (const conn of this.inbound) conn.destroy();
    this.inbound.clear();
    const server = this.server;
    this.server = null;
    this.bound = null;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private accept(socket: net.Socket): void {
    if (this.state !== 'started') {
      socket.destroy();
      return;
    }
    this.inbound.add(new InboundConnection(socket, this.host));
  }

  private encodeOrDrop(frame: Frame, to: NodeId): Uint8Array | null {
    try {
      const bytes = encodeFrame(frame);
      if (bytes.byteLength - HEADER_BYTES <= this.o.maxFrameBytes) return bytes;
      this.o.log.error({ to, bytes: bytes.byteLength, maxFrameBytes: this.o.maxFrameBytes }, 'raft transport: frame too large to send, dropped');
    } catch (err) {
      if (!(err instanceof EncodeError)) throw err;
      this.o.log.error({ to, err: err.message }, 'raft transport: cannot encode frame, dropped');
    }
    return null;
  }

  private onAnswer(peer: NodeId, f: Extract<Frame, { kind: 'response' | 'response-error' }>): void {
    const result = f.kind === 'response' ? { payload: f.payload } : { error: f.message };
    if (!this.rpc.answer(peer, f.id, result)) {
      this.o.log.debug({ peer, id: f.id }, 'raft transport: answer to an unknown or expired request ignored');
    }
  }

  private inboundHost(): InboundHost {
    return {
      self: this.o.self,
      token: this.o.clusterToken,
      maxFrameBytes: this.o.maxFrameBytes,
      handshakeTimeoutMs: this.o.handshakeTimeoutMs,
      log: this.o.log,
      accepted: (conn) => {
        // A peer that reconnected leaves its old connection half-open here: keep only the newest.
        for (const other of this.inbound) if (other !== conn && other.peer === conn.peer) other.destroy();
      },
      refused: () => void this.refused++,
      malformed: () => void this.malformed++,
      closed: (conn) => void this.inbound.delete(conn),
      contact: (from) => this.links.get(from)?.noteContact(),
      message: (from, msg) => this.deliver(from, msg),
      request: (from, id, payload, reply) => void this.serve(from, id, payload, reply),
    };
  }

  private deliver(from: NodeId, msg: Message): void {
    this.traffic.messagesReceived++;
    const handler = this.messageHandler;
    if (handler === null) return;
    try {
      handler(from, msg);
    } catch (err) {
      // A throwing handler is a local bug; it must not cost the connection or the process.
      this.o.log.error({ from, type: msg.type, err: err instanceof Error ? err.message : String(err) }, 'raft transport: message handler threw');
    }
  }

  private async serve(from: NodeId, id: number, payload: Uint8Array, reply: (f: Frame) => void): Promise<void> {
    this.traffic.requestsServed++;
    const handler = this.requestHandler;
    let answer: Frame;
    try {
      if (handler === null) throw new Error(`node "${this.o.self}" serves no requests`);
      answer = { kind: 'response', id, payload: await handler(from, payload) };
      if (answer.payload.byteLength + 64 > this.o.maxFrameBytes) {
        throw new Error(`answer of ${answer.payload.byteLength} bytes exceeds the ${this.o.maxFrameBytes}-byte frame limit`);
      }
    } catch (err) {
      answer = { kind: 'response-error', id, message: err instanceof Error ? err.message : String(err) };
    }
    reply(answer);
  }
}
