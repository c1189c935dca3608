/**
 * The narrow logger the store needs. A pino Logger satisfies it; so does a test's recorder.
 * Repairs (a cut torn tail, deleted leftovers) are logged, never silent.
 */
export interface StorageLogger {
  info(fields: Record<string, unknown>, msg: string): void;
  warn(fields: Record<string, unknown>, msg: string): void;
}

/** Used when no logger is injected: repairs still reach stderr as one JSON line each. */
export const stderrLogger: StorageLogger = {
  info: () => {},
  warn: (fields, msg) => process.stderr.write(`${JSON.stringify({ level: 'warn', component: 'raft-storage', msg, ...fields })}\n`),
};
