/**
 * The log-entry encoding of KV commands: UTF-8 JSON `{"at": <proposer's monotonic ms>, "cmd": {...}}`.
 *
 * The proposing leader records its own clock in the entry (`at`) so that every replica, applying
 * the entry at a different moment, computes the same lease deadlines: the state machine never
 * reads a clock of its own. Decoding validates the whole shape; a malformed entry decodes to an
 * error value that every replica reaches identically (it is applied as a no-op error result).
 */
import * as z from 'zod';
import type { KvCommand } from './types.js';

/** A proposer-side mistake: the command cannot be encoded. Names the field and what was expected. */
export class KvCommandError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export type DecodedCommand =
  | { readonly ok: true; readonly command: KvCommand; readonly proposedAtMs: number }
  | { readonly ok: false; readonly message: string };

const key = z.string().min(1);
const leaseId = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const op = z.enum(['==', '!=']);

const compareSchema = z.union([
  z.object({ key, target: z.enum(['create', 'mod', 'version', 'lease']), op, value: count }).strict(),
  z.object({ key, target: z.literal('value'), op, value: z.string() }).strict(),
  z.object({ key, target: z.literal('exists'), op, value: z.boolean() }).strict(),
]);

const opSchema = z.union([
  z.object({ kind: z.literal('put'), key, value: z.string(), lease: z.union([z.literal(0), leaseId]).optional() }).strict(),
  z.object({ kind: z.literal('delete'), key }).strict(),
  z.object({ kind: z.literal('deletePrefix'), prefix: z.string() }).strict(),
  z.object({ kind: z.literal('range'), key }).strict(),
  z.object({ kind: z.literal('range'), prefix: z.string() }).strict(),
]);

const commandSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('txn'), compare: z.array(compareSchema), success: z.array(opSchema), failure: z.array(opSchema) }).strict(),
  z.object({ kind: z.literal('leaseGrant'), id: leaseId.optional(), ttlMs: z.number().int().positive().max(Number.MAX_SAFE_INTEGER) }).strict(),
  z.object({ kind: z.literal('leaseKeepAlive'), id: leaseId }).strict(),
  z.object({ kind: z.literal('leaseRevoke'), id: leaseId, ifRenewedIndex: count.optional() }).strict(),
]);

const envelopeSchema = z.object({ at: z.number().finite(), cmd: commandSchema }).strict();

/** "cmd.success[0].key: Too small ..." for the first problem zod found. */
function describeIssue(error: z.ZodError, root: string): string {
  const issue = error.issues[0];
  if (!issue) return `${root}: invalid`;
  let where = root;
  for (const part of issue.path) where += typeof part === 'number' ? `[${part}]` : `.${String(part)}`;
  return `${where}: ${issue.message}`;
}

/**
 * Encodes `command` for the log, stamped with the proposer's monotonic clock.
 * Throws KvCommandError when the command is malformed (a bug in the caller: the DCS adapter
 * builds commands, users never do), so that a bad command never reaches the log.
 */
export function encodeCommand(command: KvCommand, proposedAtMs: number): Uint8Array {
  const checked = envelopeSchema.safeParse({ at: proposedAtMs, cmd: command });
  if (!checked.success) throw new KvCommandError(`cannot encode KV command: ${describeIssue(checked.error, 'entry')}`);
  return new TextEncoder().encode(JSON.stringify(checked.data));
}

/** Decodes and validates a log entry's bytes. Never throws. */
export function decodeCommand(bytes: Uint8Array): DecodedCommand {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (err) {
    return { ok: false, message: `KV entry is not UTF-8 JSON (${(err as Error).message})` };
  }
  const checked = envelopeSchema.safeParse(raw);
  if (!checked.success) return { ok: false, message: `malformed KV entry: ${describeIssue(checked.error, 'entry')}` };
  return { ok: true, command: checked.data.cmd as KvCommand, proposedAtMs: checked.data.at };
}
