/**
 * How a ctl command fails. Commands throw CtlError; main() prints the message and exits with its
 * code: 1 when the operation failed, 2 when the command line was wrong (as commander's own errors).
 */
export class CtlError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2 = 1) {
    super(message);
    this.name = new.target.name;
  }
}

/** A usage error (exit code 2). */
export function usage(message: string): CtlError {
  return new CtlError(message, 2);
}
