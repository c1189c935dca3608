/**
 * Validation and defaults of TcpTransportOptions. Every message names the option, the value
 * and what was expected; the cluster token is checked but never shown.
 */
import type { NodeId, Rng } from '../core/types.js';
import { MAX_NODE_ID_BYTES } from './codec.js';
import { TransportConfigError } from './errors.js';
import { DEFAULT_MAX_FRAME_BYTES, MAX_TEXT_BYTES } from './frame.js';
import type { MonotonicClock, PeerAddress, TcpTransportOptions, TransportLogger } from './types.js';

export interface ResolvedOptions {
  readonly self: NodeId;
  readonly listen: PeerAddress;
  /** Current peers without `self`; replaced by setPeers. */
  peers: ReadonlyMap<NodeId, PeerAddress>;
  readonly clusterToken: string | null;
  readonly log: TransportLogger;
  readonly reconnectBaseMs: number;
  readonly reconnectMaxMs: number;
  readonly handshakeTimeoutMs: number;
  readonly maxFrameBytes: number;
  readonly maxQueueItems: number;
  readonly maxQueueBytes: number;
  readonly clock: MonotonicClock;
  readonly rng: Rng;
}

const mathRandom: Rng = { intBelow: (n) => Math.floor(Math.random() * n) };

export function validateOptions(o: TcpTransportOptions, defaultClock: MonotonicClock): ResolvedOptions {
  checkNodeId(o.self, 'self');
  checkAddress(o.listen, 'listen');
  if (o.clusterToken !== undefined) {
    if (typeof o.clusterToken !== 'string' || o.clusterToken.length === 0 || Buffer.byteLength(o.clusterToken) > MAX_TEXT_BYTES) {
      throw new TransportConfigError(`clusterToken must be a non-empty string of at most ${MAX_TEXT_BYTES} bytes (value not shown)`);
    }
  }
  const reconnectBaseMs = positive(o.reconnectBaseMs, 'reconnectBaseMs', 1_000);
  const maxFrameBytes = positive(o.maxFrameBytes, 'maxFrameBytes', DEFAULT_MAX_FRAME_BYTES);
  const resolved: ResolvedOptions = {
    self: o.self,
    listen: { host: o.listen.host, port: o.listen.port },
    peers: validatePeers(o.self, o.peers),
    clusterToken: o.clusterToken ?? null,
    log: o.log,
    reconnectBaseMs,
    reconnectMaxMs: positive(o.reconnectMaxMs, 'reconnectMaxMs', 8 * reconnectBaseMs),
    handshakeTimeoutMs: positive(o.handshakeTimeoutMs, 'handshakeTimeoutMs', 5_000),
    maxFrameBytes,
    maxQueueItems: positive(o.maxQueueItems, 'maxQueueItems', 4096),
    maxQueueBytes: positive(o.maxQueueBytes, 'maxQueueBytes', 2 * maxFrameBytes),
    clock: o.clock ?? defaultClock,
    rng: o.rng ?? mathRandom,
  };
  if (resolved.reconnectMaxMs < reconnectBaseMs) {
    throw new TransportConfigError(`reconnectMaxMs (${resolved.reconnectMaxMs}) must be at least reconnectBaseMs (${reconnectBaseMs})`);
  }
  if (maxFrameBytes >= 2 ** 32) throw new TransportConfigError(`maxFrameBytes must be below 4 GiB (the u32 length field), got ${maxFrameBytes}`);
  return resolved;
}

/** Checks a peer map and returns a copy without `self`. */
export function validatePeers(self: NodeId, peers: ReadonlyMap<NodeId, PeerAddress>): Map<NodeId, PeerAddress> {
  if (!(peers instanceof Map)) throw new TransportConfigError('peers must be a Map from node id to {host, port}');
  const out = new Map<NodeId, PeerAddress>();
  for (const [id, addr] of peers) {
    checkNodeId(id, 'peers key');
    checkAddress(addr, `peers["${id}"]`);
    if (id !== self) out.set(id, { host: addr.host, port: addr.port });
  }
  return out;
}

function checkNodeId(id: unknown, key: string): void {
  if (typeof id !== 'string' || id.length === 0 || Buffer.byteLength(id) > MAX_NODE_ID_BYTES || /\p{Cs}/u.test(id)) {
    throw new TransportConfigError(`${key} must be a non-empty node id of at most ${MAX_NODE_ID_BYTES} UTF-8 bytes, got ${JSON.stringify(id)}`);
  }
}

function checkAddress(addr: unknown, key: string): void {
  const a = addr as Partial<PeerAddress> | null | undefined;
  // An empty host would make Node listen on every interface: the host is always required.
  if (a === null || typeof a !== 'object' || typeof a.host !== 'string' || a.host.length === 0) {
    throw new TransportConfigError(`${key}.host must be a non-empty host name or IP address, got ${JSON.stringify(a?.host)}`);
  }
  if (typeof a.port !== 'number' || !Number.isInteger(a.port) || a.port < 0 || a.port > 65_535) {
    throw new TransportConfigError(`${key}.port must be an integer port number 0-65535, got ${JSON.stringify(a.port)}`);
  }
}

function positive(v: number | undefined, key: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) {
    throw new TransportConfigError(`${key} must be a positive number, got ${JSON.stringify(v)}`);
  }
  return v;
}
