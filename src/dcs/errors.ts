/**
 * DCS errors. The HA loop must tell "I lost the race / the lock" (a value: CasResult, boolean)
 * from "I cannot tell" (DcsUnavailableError). Every adapter maps its client's failures onto
 * these classes and keeps the original as `cause`.
 */
export abstract class DcsError extends Error {
  abstract readonly retryable: boolean;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The DCS could not be reached (no quorum, no leader, timeout, connection refused...). */
export class DcsUnavailableError extends DcsError {
  readonly retryable = true;
}

/** Data found in the DCS could not be parsed (someone wrote garbage under our prefix). */
export class DcsDataError extends DcsError {
  readonly retryable = false;
}

/** Our lease/session no longer exists on the server: anything bound to it is gone. */
export class LeaseExpiredError extends DcsError {
  readonly retryable = false;
}

export function isDcsUnavailable(e: unknown): e is DcsUnavailableError {
  return e instanceof DcsUnavailableError;
}
