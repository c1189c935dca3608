/** Options, collaborators and stats of the Raft TCP transport. */
import type { Message, NodeId, Rng } from '../core/types.js';

export interface PeerAddress {
  readonly host: string;
  readonly port: number;
}

/** Narrow structured logger; a pino Logger fits. Fields never carry the cluster token. */
export interface TransportLogger {
  debug(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** A monotonic clock in milliseconds (not wall time): last-contact times are read from it. */
export interface MonotonicClock {
  now(): number;
}

export interface TcpTransportOptions {
  readonly self: NodeId;
  /**
   * Where to listen. The server binds exactly this host (a loopback or interface address);
   * 0.0.0.0 or :: only when given here explicitly. Port 0 picks a free port (see `address`).
   */
  readonly listen: PeerAddress;
  /** Every other voter and learner. An entry for `self` is ignored. */
  readonly peers: ReadonlyMap<NodeId, PeerAddress>;
  /** Shared secret every node must present in its handshake; never logged. */
  readonly clusterToken?: string;
  readonly log: TransportLogger;
  /**
   * First reconnect delay, doubling per failed attempt up to `reconnectMaxMs`. Pass QLUSTER's
   * hello-retry-interval (or replication-retry-interval). Default 1000.
   */
  readonly reconnectBaseMs?: number;
  /** Cap of the reconnect delay. Default 8 x reconnectBaseMs. */
  readonly reconnectMaxMs?: number;
  /** Connect plus handshake must finish within this, else the attempt counts as failed. Default 5000. */
  readonly handshakeTimeoutMs?: number;
  /** Largest frame payload sent or accepted. Default 64 MiB + 64 KiB (a 64 MiB snapshot fits). */
  readonly maxFrameBytes?: number;
  /** Per-peer queue bound in frames (oldest dropped beyond it). Default 4096. */
  readonly maxQueueItems?: number;
  /** Per-peer queue bound in bytes. Default 2 x maxFrameBytes. */
  readonly maxQueueBytes?: number;
  readonly clock?: MonotonicClock;
  /** Randomness for reconnect jitter. Default Math.random. */
  readonly rng?: Rng;
}

/** One peer's row in GET /raft. */
export interface PeerStats {
  readonly id: NodeId;
  readonly address: PeerAddress;
  /** An outbound connection is established and its handshake acknowledged. */
  readonly connected: boolean;
  /** Monotonic time (clock.now()) of the last frame received from this peer; null if never. */
  readonly lastContactMs: number | null;
  readonly queueLength: number;
  readonly queueBytes: number;
  /** Frames dropped for this peer: queue overflow, unreachable peer, or too large to send. */
  readonly drops: number;
  /** Consecutive failed connection attempts (0 while connected). */
  readonly failedAttempts: number;
}

export interface TransportStats {
  readonly self: NodeId;
  /** The bound address, null before start() or after close(). */
  readonly listening: PeerAddress | null;
  readonly peers: readonly PeerStats[];
  /** Handshaken inbound connections currently open. */
  readonly inboundConnections: number;
  /** Inbound connections refused at handshake (bad token, wrong target, bad version). */
  readonly refusedConnections: number;
  /** Connections closed because they sent an invalid frame. */
  readonly malformedFrames: number;
  /** Messages for a NodeId not in the peer map. */
  readonly unknownPeerDrops: number;
  /** Totals since start: what an idle cluster costs is mostly these (GET /raft, the idle bench). */
  readonly traffic: TransportTraffic;
}

export interface TransportTraffic {
  /** Raft messages queued for a peer (dropped ones included). */
  readonly messagesSent: number;
  readonly messagesReceived: number;
  /** Forwarded client requests sent to the leader, and those this node served for others. */
  readonly requestsSent: number;
  readonly requestsServed: number;
}

/** Receives each Raft message that arrived from `from` (already validated). */
export type MessageHandler = (from: NodeId, msg: Message) => void;

/**
 * Serves one forwarded client request. The resolved bytes go back to the requester; a rejection
 * goes back as a RemoteError carrying only the error's message.
 */
export type RequestHandler = (from: NodeId, payload: Uint8Array) => Promise<Uint8Array>;
