/**
 * Read-only commands: list, topology, history, show-config, decisions, jobs, version.
 */
import { InvalidArgumentError, type Command } from 'commander';
import yaml from 'js-yaml';
import { VERSION } from '../../version.js';
import { restTarget } from './cluster-rest.js';
import { checkClusterArg, leaderFirst, memberNamed, readCluster, type CtlContext } from './context.js';
import { CtlError } from './errors.js';
import type { CtlIo } from './io.js';
import { listFooter, listTable } from './list-view.js';
import { replyMessage } from './rest.js';
import { parseFormat, renderTable, type OutputFormat, type Table } from './table.js';

export type GetContext = () => CtlContext;

/** The context, after checking an optional patronictl-style cluster argument. */
export function clusterCtx(getCtx: GetContext, cluster: string | undefined): CtlContext {
  const ctx = getCtx();
  checkClusterArg(ctx, cluster);
  return ctx;
}

export function positiveSeconds(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`expected a number of seconds > 0, got "${text}"`);
  return n;
}

function formatOption(text: string): OutputFormat {
  try { return parseFormat(text); } catch (e) { throw new InvalidArgumentError(e instanceof Error ? e.message : String(e)); }
}

interface ListOpts { format: OutputFormat; extended?: boolean; watch?: number; W?: boolean }

/** Prints the list (or topology) once, or every -w seconds until interrupted. */
async function runList(ctx: CtlContext, o: ListOpts, topology: boolean): Promise<void> {
  const everyMs = o.watch !== undefined ? o.watch * 1000 : o.W ? 2000 : null;
  for (;;) {
    const view = await readCluster(ctx);
    const table = listTable(view, ctx.scope, { extended: o.extended === true, topology });
    ctx.io.out(renderTable(table, o.format));
    if (o.format === 'pretty') for (const line of listFooter(view, ctx.scope)) ctx.io.out(line);
    if (everyMs === null) return;
    await ctx.io.sleep(everyMs);
  }
}

function addListOptions(c: Command): Command {
  return c
    .option('-f, --format <format>', 'output format: pretty, tsv, json, yaml', formatOption, 'pretty' as OutputFormat)
    .option('-e, --extended', 'show Pending restart, Scheduled restart and Tags columns')
    .option('-W', 'refresh every 2 seconds')
    .option('-w, --watch <seconds>', 'refresh every SECONDS', positiveSeconds);
}

/** Asks one member (the named one, else the leader, else any) and returns its JSON reply. */
async function askMember(ctx: CtlContext, memberName: string | undefined, path: string): Promise<unknown> {
  const view = await readCluster(ctx);
  // Raft mode: the local agent (already reached for the view) answers first.
  const local = ctx.raftMode && ctx.localApi && !memberName ? [restTarget('local agent', ctx.localApi)] : [];
  const targets = memberName ? [memberNamed(view, memberName, ctx.scope)] : [...local, ...leaderFirst(view)];
  if (targets.length === 0) throw new CtlError(`cluster ${ctx.scope} has no members`);
  let lastError: unknown = null;
  for (const m of targets) {
    try {
      const r = await ctx.rest.call(m, 'GET', path);
      if (r.status !== 200) throw new CtlError(`${m.name}: GET ${path} answered ${r.status}: ${replyMessage(r)}`);
      return r.body;
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError instanceof Error ? lastError : new CtlError(String(lastError));
}

function decisionsTable(entries: unknown): Table {
  const list = Array.isArray(entries) ? (entries as Array<Record<string, unknown>>) : [];
  return {
    columns: ['Since', 'Last seen', 'Count', 'Reason', 'Actions'],
    rows: list.map((e) => [String(e['at'] ?? ''), String(e['lastAt'] ?? ''), Number(e['count'] ?? 0), String(e['reason'] ?? ''),
      Array.isArray(e['actions']) ? e['actions'].join(', ') : '']),
    alignRight: ['Count'],
  };
}

function jobsTable(jobs: unknown): Table {
  const list = Array.isArray(jobs) ? (jobs as Array<Record<string, unknown>>) : [];
  const cols = ['id', 'kind', 'state', 'created_at', 'updated_at', 'message'];
  return { columns: ['ID', 'Kind', 'State', 'Created', 'Updated', 'Message'], rows: list.map((j) => cols.map((k) => String(j[k] ?? ''))) };
}

export function registerReadCommands(program: Command, getCtx: GetContext, io: CtlIo): void {
  addListOptions(program.command('list').description('show the members of the cluster').argument('[cluster]', 'must be the configured cluster'))
    .action(async (cluster: string | undefined, o: ListOpts) => runList(clusterCtx(getCtx, cluster), o, false));
  addListOptions(program.command('topology').description('show the members indented under their upstream').argument('[cluster]', 'must be the configured cluster'))
    .action(async (cluster: string | undefined, o: ListOpts) => runList(clusterCtx(getCtx, cluster), o, true));

  program.command('history').description('show the timeline history')
    .argument('[cluster]', 'must be the configured cluster')
    .option('-f, --format <format>', 'output format: pretty, tsv, json, yaml', formatOption, 'pretty' as OutputFormat)
    .action(async (cluster: string | undefined, o: { format: OutputFormat }) => {
      const ctx = clusterCtx(getCtx, cluster);
      const view = await readCluster(ctx);
      const rows = (view.history?.value ?? []).map((h) => [h[0], h[1], h[2], h[3] ?? '', h[4] ?? '']);
      ctx.io.out(renderTable({ columns: ['TL', 'LSN', 'Reason', 'Timestamp', 'New Leader'], rows, alignRight: ['TL', 'LSN'] }, o.format));
    });

  program.command('show-config').description('show the dynamic configuration stored in the DCS (YAML)')
    .argument('[cluster]', 'must be the configured cluster')
    .action(async (cluster: string | undefined) => {
      const ctx = clusterCtx(getCtx, cluster);
      const view = await readCluster(ctx);
      if (!view.config) throw new CtlError(`cluster ${ctx.scope} has no dynamic configuration in the DCS`);
      ctx.io.out(yaml.dump(view.config.value, { lineWidth: -1 }).trimEnd());
    });

  program.command('decisions').description("show a member's recent HA decisions and why (default: the leader)")
    .argument('[member]', 'member name')
    .option('-f, --format <format>', 'output format: pretty, tsv, json, yaml', formatOption, 'pretty' as OutputFormat)
    .action(async (member: string | undefined, o: { format: OutputFormat }) => {
      const ctx = getCtx();
      const body = await askMember(ctx, member, '/history/decisions');
      ctx.io.out(o.format === 'json' ? JSON.stringify(body) : renderTable(decisionsTable(body), o.format));
    });

  program.command('jobs').description('show jobs (switchover, restart, reinitialize, raft membership...), or one job by id')
    .argument('[id]', 'job id')
    .option('-f, --format <format>', 'output format: pretty, tsv, json, yaml', formatOption, 'pretty' as OutputFormat)
    .action(async (id: string | undefined, o: { format: OutputFormat }) => {
      const ctx = getCtx();
      const body = await askMember(ctx, undefined, id ? `/jobs/${encodeURIComponent(id)}` : '/jobs');
      if (o.format === 'json') ctx.io.out(JSON.stringify(body));
      else if (id) ctx.io.out(yaml.dump(body, { lineWidth: -1 }).trimEnd());
      else ctx.io.out(renderTable(jobsTable(body), o.format));
    });

  // version needs no cluster: it works without -c or --dcs-url.
  program.command('version').description('show the version of ctl')
    .action(() => { io.out(`ctl version ${VERSION}`); });
}
