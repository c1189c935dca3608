/**
 * Errors of the local PostgreSQL layer. Expected outcomes (a stopped server, a failed rewind) are
 * values; these classes are for "the command could not do what it was told". Messages name the
 * binary, the data directory and the tail of the tool's output, never a password.
 */
export abstract class PostgresError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A setting has a value we cannot use (names the key, the value and what was expected). */
export class PostgresConfigError extends PostgresError {}

/** A PostgreSQL binary failed, timed out or could not be spawned. */
export class PostgresCommandError extends PostgresError {
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly output: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The instance is not in a state that allows the operation (e.g. clone into a non-empty directory). */
export class PostgresStateError extends PostgresError {}

/** The server did not come up (or not in time); carries the tail of the server log. */
export class PostgresStartError extends PostgresError {
  constructor(message: string, readonly logTail: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** A query failed, or the connection could not be made within its budget. `code` is the SQLSTATE if any. */
export class PostgresQueryError extends PostgresError {
  constructor(message: string, readonly code: string | null, options?: ErrorOptions) {
    super(message, options);
  }
}
