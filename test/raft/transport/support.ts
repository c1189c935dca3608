/**
 * Shared helpers of the transport tests: message generators (fast-check) and fixed samples of
 * every message type, a recording logger, and transports on 127.0.0.1 with OS-chosen ports
 * that are always closed, even when a test fails.
 */
import fc from 'fast-check';
import type { Entry, EntryType, Message, NodeId } from '../../../src/raft/core/types.js';
import { TcpTransport } from '../../../src/raft/transport/index.js';
import type { PeerAddress, TcpTransportOptions, TransportLogger } from '../../../src/raft/transport/index.js';

// ---------------------------------------------------------------- generators

const SAFE = Number.MAX_SAFE_INTEGER;
export const arbNodeId = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 });
const arbU64 = fc.oneof(fc.nat(1000), fc.maxSafeNat(), fc.constant(SAFE));
const arbBytes = fc.uint8Array({ maxLength: 64 });
const arbCtx = fc.string({ unit: 'grapheme', maxLength: 16 });
const arbEntryType = fc.constantFrom<EntryType>('normal', 'conf-change', 'noop');

/** Entries that follow (prevIndex, prevTerm) as a real append's do. */
const arbAppendBody = fc
  .record({
    index: fc.oneof(fc.nat(1000), fc.integer({ min: 0, max: SAFE - 100 })),
    logTerm: fc.oneof(fc.nat(1000), fc.integer({ min: 0, max: SAFE - 1_000_000 })),
    commit: arbU64,
    steps: fc.array(fc.record({ dt: fc.nat(3), type: arbEntryType, data: arbBytes }), { maxLength: 6 }),
  })
  .map(({ index, logTerm, commit, steps }) => {
    let term = logTerm;
    const entries: Entry[] = steps.map((s, i) => {
      term += s.dt;
      return { term, index: index + 1 + i, type: s.type, data: s.data };
    });
    return { index, logTerm, commit, entries };
  });

/** Any valid core Message. */
export const arbMessage: fc.Arbitrary<Message> = fc
  .record({ from: arbNodeId, to: arbNodeId, term: arbU64 })
  .chain((env) =>
    fc.oneof(
      arbAppendBody.map((b) => ({ ...env, type: 'append' as const, ...b })),
      fc.record({ index: arbU64, reject: fc.boolean(), hintTerm: arbU64, hintIndex: arbU64 })
        .map((b) => ({ ...env, type: 'append-resp' as const, ...b })),
      fc.record({ commit: arbU64, ctx: fc.option(arbCtx, { nil: null }) }).map((b) => ({ ...env, type: 'heartbeat' as const, ...b })),
      fc.option(arbCtx, { nil: null }).map((ctx) => ({ ...env, type: 'heartbeat-resp' as const, ctx })),
      fc.record({ type: fc.constantFrom('vote' as const, 'pre-vote' as const), lastIndex: arbU64, lastTerm: arbU64, transfer: fc.boolean() })
        .map((b) => ({ ...env, ...b })),
      fc.record({ type: fc.constantFrom('vote-resp' as const, 'pre-vote-resp' as const), reject: fc.boolean() })
        .map((b) => ({ ...env, ...b })),
      fc.record({
        index: arbU64, term: arbU64,
        voters: fc.array(arbNodeId, { maxLength: 5 }), learners: fc.array(arbNodeId, { maxLength: 3 }),
        data: fc.uint8Array({ maxLength: 512 }),
      }).map(({ index, term, voters, learners, data }) => ({
        ...env, type: 'snapshot' as const, snapshot: { index, term, confState: { voters, learners }, data },
      })),
      fc.constant({ ...env, type: 'timeout-now' as const }),
      arbCtx.map((ctx) => ({ ...env, type: 'read-index' as const, ctx })),
      fc.record({ ctx: arbCtx, index: arbU64 }).map((b) => ({ ...env, type: 'read-index-resp' as const, ...b })),
      arbNodeId.map((target) => ({ ...env, type: 'transfer-leader' as const, target })),
      arbU64.map((confIndex) => ({ ...env, type: 'removed' as const, confIndex })),
    ),
  );

/** One message of every type from `from` to `to`; the snapshot carries `snapshotBytes` bytes. */
export function everyMessageType(from: NodeId, to: NodeId, snapshotBytes = 1024): Message[] {
  const env = { from, to, term: 7 };
  const data = new Uint8Array(snapshotBytes).map((_, i) => (i * 31 + 7) & 0xff);
  return [
    { ...env, type: 'append', index: 10, logTerm: 6, commit: 9, entries: [
      { term: 6, index: 11, type: 'normal', data: new Uint8Array([1, 2, 3]) },
      { term: 7, index: 12, type: 'noop', data: new Uint8Array() },
      { term: 7, index: 13, type: 'conf-change', data: new TextEncoder().encode('{"kind":"promote"}') },
    ] },
    { ...env, type: 'append-resp', index: 13, reject: true, hintTerm: 5, hintIndex: 4 },
    { ...env, type: 'heartbeat', commit: 12, ctx: 'read-1' },
    { ...env, type: 'heartbeat-resp', ctx: null },
    { ...env, type: 'vote', lastIndex: 13, lastTerm: 7, transfer: true },
    { ...env, type: 'pre-vote', lastIndex: 13, lastTerm: 7, transfer: false },
    { ...env, type: 'vote-resp', reject: false },
    { ...env, type: 'pre-vote-resp', reject: true },
    { ...env, type: 'snapshot', snapshot: { index: 100, term: 6, confState: { voters: [from, to], learners: ['l1'] }, data } },
    { ...env, type: 'timeout-now' },
    { ...env, term: 0, type: 'read-index', ctx: 'ctx-ü' },
    { ...env, type: 'read-index-resp', ctx: 'ctx-ü', index: 12 },
    { ...env, term: 0, type: 'transfer-leader', target: to },
    { ...env, term: 0, type: 'removed', confIndex: 42 },
  ];
}

// ---------------------------------------------------------------- logging

export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly obj: object;
  readonly msg: string;
}

/** A logger that keeps every line, so tests can assert on what was logged (and what was not). */
export function recordingLog(): TransportLogger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (obj: object, msg: string) => void lines.push({ level, obj, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

// ---------------------------------------------------------------- transports

const open = new Set<TcpTransport>();
process.on('exit', () => {
  // Safety net: sockets die with the process anyway, but say so if a test leaked a transport.
  if (open.size > 0) process.stderr.write(`transport tests: ${open.size} transport(s) left open\n`);
});

/** Fast retry settings so reconnect tests take milliseconds. */
export const FAST = { reconnectBaseMs: 20, reconnectMaxMs: 100, handshakeTimeoutMs: 1_000 } as const;

export async function startTransport(
  self: NodeId,
  extra: Partial<TcpTransportOptions> = {},
): Promise<{ t: TcpTransport; log: ReturnType<typeof recordingLog>; addr: PeerAddress }> {
  const log = recordingLog();
  const t = new TcpTransport({ self, listen: { host: '127.0.0.1', port: 0 }, peers: new Map(), log, ...FAST, ...extra });
  open.add(t);
  await t.start();
  const addr = t.address;
  if (addr === null) throw new Error('transport did not report its address');
  return { t, log, addr };
}

/** Closes every transport the helpers started (call from after()/afterEach()). */
export async function closeAll(): Promise<void> {
  const all = [...open];
  open.clear();
  await Promise.all(all.map((t) => t.close()));
}

export async function closeOne(t: TcpTransport): Promise<void> {
  open.delete(t);
  await t.close();
}

/** Polls `cond` every 5 ms until it holds; fails after `timeoutMs` with `what`. */
export async function waitFor(what: string, cond: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Collects what a transport delivers. */
export function inbox(t: TcpTransport): Array<{ from: NodeId; msg: Message }> {
  const got: Array<{ from: NodeId; msg: Message }> = [];
  t.onMessage((from, msg) => got.push({ from, msg }));
  return got;
}

/** Starts one transport per id, gives each the others as peers and waits until all are connected. */
export async function mesh(
  ids: readonly NodeId[],
  extra: Partial<TcpTransportOptions> = {},
): Promise<Map<NodeId, Awaited<ReturnType<typeof startTransport>>>> {
  const nodes = new Map<NodeId, Awaited<ReturnType<typeof startTransport>>>();
  for (const id of ids) nodes.set(id, await startTransport(id, extra));
  const addrs = new Map([...nodes].map(([id, n]) => [id, n.addr]));
  for (const n of nodes.values()) n.t.setPeers(addrs);
  await waitFor('every link connected', () =>
    [...nodes.values()].every((n) => n.t.stats().peers.every((p) => p.connected)));
  return nodes;
}

/** The node `id` of a mesh (fails loudly when missing). */
export function node<T>(nodes: Map<NodeId, T>, id: NodeId): T {
  const n = nodes.get(id);
  if (n === undefined) throw new Error(`no node ${id}`);
  return n;
}
