/**
 * Errors of the Raft TCP transport. Every failure a caller or a remote peer can cause is one of
 * these classes, so callers branch on `instanceof` rather than on message text. Messages never
 * carry the cluster token.
 */

/** Base class of every transport error. `retryable` tells a caller whether trying again may help. */
export abstract class TransportError extends Error {
  abstract readonly retryable: boolean;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/**
 * Bytes that are not a valid frame or message: truncated, over a size limit, an unknown type tag,
 * a field out of range, invalid UTF-8 or trailing garbage. Decoding untrusted input throws this
 * and nothing else; the transport answers it by closing the connection that carried the bytes.
 */
export class DecodeError extends TransportError {
  readonly retryable = false;
}

/** A value that the wire format cannot carry exactly (a caller bug, e.g. a fractional index). */
export class EncodeError extends TransportError {
  readonly retryable = false;
}

/** `request()` got no answer within its timeout. The remote may or may not have run the request. */
export class RequestTimeoutError extends TransportError {
  readonly retryable = true;
  constructor(
    readonly peer: string,
    readonly timeoutMs: number,
  ) {
    super(`request to peer "${peer}" got no answer within ${timeoutMs} ms`);
  }
}

/** The remote request handler failed; `message` is its error message, nothing more. */
export class RemoteError extends TransportError {
  readonly retryable = false;
  constructor(
    readonly peer: string,
    remoteMessage: string,
  ) {
    super(remoteMessage);
  }
}

/** Why a request could not be carried out before reaching the remote handler (or its answer back). */
export type UnavailableReason = 'unknown-peer' | 'dropped' | 'disconnected' | 'closed';

/**
 * A request could not be delivered or its answer cannot arrive: the peer is not configured, the
 * bounded queue dropped it, the connection broke after it was sent, or the transport was closed.
 */
export class PeerUnavailableError extends TransportError {
  readonly retryable: boolean;
  constructor(
    readonly peer: string,
    readonly reason: UnavailableReason,
  ) {
    super(`request to peer "${peer}" failed: ${describeReason(reason)}`);
    this.retryable = reason === 'dropped' || reason === 'disconnected';
  }
}

function describeReason(reason: UnavailableReason): string {
  switch (reason) {
    case 'unknown-peer':
      return 'no such peer is configured';
    case 'dropped':
      return 'the send queue was full or the connection could not be made, so the request was dropped';
    case 'disconnected':
      return 'the connection closed before an answer arrived';
    case 'closed':
      return 'the transport is closed';
  }
}

/** Invalid transport options; the message names the option, the value and what was expected. */
export class TransportConfigError extends TransportError {
  readonly retryable = false;
}
