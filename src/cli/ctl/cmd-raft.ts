/**
 * `ctl raft status|add PEER|remove PEER|transfer TARGET`: the built-in Raft DCS's membership, over
 * the REST API of any member (the local agent from the configuration's restapi section first, then
 * the members' api_url from GET /cluster, leader first). A follower forwards the job to the Raft
 * leader itself, so whichever member answers first is fine. Mutations print the job id; --wait
 * follows the job until it succeeds (exit 0) or fails (exit 1).
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { Member } from '../../dcs/types.js';
import { restTarget } from './cluster-rest.js';
import { leaderFirst, readCluster, type CtlContext } from './context.js';
import { CtlError } from './errors.js';
import { replyMessage, type RestReply } from './rest.js';
import { parseFormat, renderTable, type OutputFormat } from './table.js';

type GetContext = () => CtlContext;

/** Where to send raft requests, in order of preference. */
async function targets(ctx: CtlContext): Promise<Member[]> {
  const local = ctx.localApi ? [restTarget('local agent', ctx.localApi)] : [];
  try {
    return [...local, ...leaderFirst(await readCluster(ctx))];
  } catch (e) {
    if (local.length > 0) return local; // the agent may answer /raft even when /cluster cannot be read
    throw e;
  }
}

/** Sends to the first member that can be reached; an HTTP error answer is final (not retried elsewhere). */
async function callAny(ctx: CtlContext, method: string, path: string, body?: unknown): Promise<RestReply> {
  let last: unknown = new CtlError(`cluster ${ctx.scope} has no members to ask`);
  for (const m of await targets(ctx)) {
    try {
      return await ctx.rest.call(m, method, path, body);
    } catch (e) {
      last = e;
    }
  }
  throw last instanceof Error ? last : new CtlError(String(last));
}

function expectStatus(r: RestReply, ok: readonly number[], what: string): Record<string, unknown> {
  if (!ok.includes(r.status)) throw new CtlError(`${what} failed (${r.status}): ${replyMessage(r)}`);
  return typeof r.body === 'object' && r.body !== null ? (r.body as Record<string, unknown>) : {};
}

const peerArg = (text: string): string => {
  if (!/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9_.-]+):\d{1,5}$/.test(text)) throw new InvalidArgumentError(`expected a Raft address "host:port", got "${text}"`);
  return text;
};

async function status(ctx: CtlContext, format: OutputFormat): Promise<void> {
  const st = expectStatus(await callAny(ctx, 'GET', '/raft'), [200], 'GET /raft');
  if (format === 'json') return ctx.io.out(JSON.stringify(st));
  const peers = Array.isArray(st['peers']) ? (st['peers'] as Array<Record<string, unknown>>) : [];
  const cell = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'number' ? v : String(v));
  ctx.io.out(` Raft: term ${cell(st['term'])}, leader ${cell(st['leader']) || 'unknown'}, commit index ${cell(st['commit'])} (answered by ${cell(st['id'])})`);
  if (st['removed'] === true) ctx.io.out(` ${cell(st['id'])} was REMOVED from the Raft cluster: wipe its raft data_dir, restart it with raft.join: true, then ctl raft add ${cell(st['id'])}`);
  ctx.io.out(renderTable({
    columns: ['Peer', 'Role', 'Leader', 'Match index', 'Last contact ms'],
    rows: peers.map((p) => [String(p['id']), String(p['role']), p['is_leader'] === true ? '*' : '', cell(p['match_index']), cell(p['last_contact_ms'])]),
    alignRight: ['Match index', 'Last contact ms'],
  }, format));
}

/** Polls GET /jobs/{id} until the job finishes or `timeoutS` passes. */
async function follow(ctx: CtlContext, id: string, timeoutS: number): Promise<void> {
  const end = Date.now() + timeoutS * 1000;
  while (Date.now() < end) {
    const r = await callAny(ctx, 'GET', `/jobs/${encodeURIComponent(id)}`).catch(() => null);
    const job = r?.status === 200 ? (r.body as Record<string, unknown>) : null;
    if (job?.['state'] === 'succeeded') return ctx.io.out(`job ${id} succeeded: ${String(job['message'])}`);
    if (job?.['state'] === 'failed') throw new CtlError(`job ${id} failed: ${String(job['message'])}`);
    await ctx.io.sleep(250);
  }
  throw new CtlError(`job ${id} did not finish within ${timeoutS} s (see: ctl jobs ${id})`);
}

async function submit(ctx: CtlContext, method: string, path: string, body: unknown, o: { wait?: boolean; timeout: number }): Promise<void> {
  const job = expectStatus(await callAny(ctx, method, path, body), [200, 202], `${method} ${path}`);
  const id = String(job['id'] ?? '');
  ctx.io.out(`job ${id} queued: ${String(job['kind'])} ${JSON.stringify(job['params'] ?? {})}`);
  if (o.wait) await follow(ctx, id, o.timeout);
}

function formatOption(text: string): OutputFormat {
  try { return parseFormat(text); } catch (e) { throw new InvalidArgumentError(e instanceof Error ? e.message : String(e)); }
}

function seconds(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number of seconds > 0, got "${text}"`);
  return n;
}

function mutating(c: Command): Command {
  return c.option('--wait', 'wait until the job succeeds or fails').option('--timeout <seconds>', 'with --wait: give up after SECONDS', seconds, 60);
}

export function registerRaftCommands(program: Command, getCtx: GetContext): void {
  const raft = program.command('raft').description('built-in Raft DCS: status and membership (add, remove, transfer leadership)');
  raft.command('status').description('term, leader, commit index and each peer\'s role, match index and last contact')
    .option('-f, --format <format>', 'output format: pretty, tsv, json, yaml', formatOption, 'pretty' as OutputFormat)
    .action(async (o: { format: OutputFormat }) => status(getCtx(), o.format));
  mutating(raft.command('add').description('add a server (started with raft.join: true) as a learner; it becomes a voter once caught up')
    .argument('<peer>', 'the new server\'s Raft address host:port', peerArg))
    .action(async (peer: string, o: { wait?: boolean; timeout: number }) => submit(getCtx(), 'POST', '/raft/peers', { peer }, o));
  mutating(raft.command('remove').description('remove a server from the Raft membership (the leader too: it steps down)')
    .argument('<peer>', 'Raft address host:port', peerArg))
    .action(async (peer: string, o: { wait?: boolean; timeout: number }) => submit(getCtx(), 'DELETE', `/raft/peers/${encodeURIComponent(peer)}`, undefined, o));
  mutating(raft.command('transfer').description('move Raft leadership to a named voter')
    .argument('<target>', 'Raft address host:port', peerArg))
    .action(async (target: string, o: { wait?: boolean; timeout: number }) => submit(getCtx(), 'POST', '/raft/transfer-leader', { target }, o));
}
