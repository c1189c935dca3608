/** Public API of the Raft TCP transport. */
export { TcpTransport } from './tcp-transport.js';
export { decodeMessage, encodeMessage, MAX_CTX_BYTES, MAX_NODE_ID_BYTES } from './codec.js';
export { DEFAULT_MAX_FRAME_BYTES } from './frame.js';
export {
  DecodeError,
  EncodeError,
  PeerUnavailableError,
  RemoteError,
  RequestTimeoutError,
  TransportConfigError,
  TransportError,
} from './errors.js';
export type { UnavailableReason } from './errors.js';
export type {
  MessageHandler,
  MonotonicClock,
  PeerAddress,
  PeerStats,
  RequestHandler,
  TcpTransportOptions,
  TransportLogger,
  TransportStats,
  TransportTraffic,
} from './types.js';
