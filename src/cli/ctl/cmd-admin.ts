/**
 * Admin commands that go to members' REST APIs: switchover, failover, restart, reload, reinit.
 * The agent does the work (as a job); ctl only validates what it can see and reports the answer.
 */
import type { Command } from 'commander';
import type { ClusterView, FailoverRequest, Member } from '../../dcs/types.js';
import { confirm, leaderOf, memberNamed, readCluster, withoutClusterArg, type CtlContext } from './context.js';
import { clusterCtx, positiveSeconds, type GetContext } from './cmd-read.js';
import { CtlError, usage } from './errors.js';
import { replyMessage, type RestReply } from './rest.js';

/** "now" or an ISO timestamp; one without a zone is taken as local time (as patronictl does). */
export function parseSchedule(text: string | undefined): string | undefined {
  if (text === undefined || text.trim().toLowerCase() === 'now') return undefined;
  const t = Date.parse(text);
  if (!Number.isFinite(t)) throw usage(`--scheduled: expected an ISO 8601 timestamp such as 2030-01-31T10:00:00+00:00 or "now", got "${text}"`);
  return new Date(t).toISOString();
}

function requireLeader(view: ClusterView, scope: string): Member {
  const leader = leaderOf(view);
  if (!leader) throw new CtlError(`This cluster has no leader (cluster ${scope})`);
  return leader;
}

function report(ctx: CtlContext, what: string, r: RestReply): void {
  if (r.status >= 400) throw new CtlError(`${what} failed (HTTP ${r.status}): ${replyMessage(r)}`);
  ctx.io.out(replyMessage(r));
}

interface SwitchoverOpts { leader?: string; primary?: string; master?: string; candidate?: string; scheduled?: string; force?: boolean }

async function switchover(ctx: CtlContext, o: SwitchoverOpts): Promise<void> {
  const scheduledAt = parseSchedule(o.scheduled);
  const view = await readCluster(ctx);
  const leader = requireLeader(view, ctx.scope);
  const named = o.leader ?? o.primary ?? o.master;
  if (named !== undefined && named !== leader.name) throw new CtlError(`Member ${named} is not the leader of cluster ${ctx.scope}`);
  if (o.candidate !== undefined) {
    memberNamed(view, o.candidate, ctx.scope);
    if (o.candidate === leader.name) throw new CtlError(`Member ${o.candidate} is already the leader of cluster ${ctx.scope}`);
  } else if (![...view.members.values()].some((m) => m !== leader && m.data.tags?.nofailover !== true)) {
    throw new CtlError('No candidates found to switchover to');
  }
  if (scheduledAt && view.config?.value['pause'] === true) throw new CtlError("Can't schedule switchover in the paused state");
  const target = o.candidate ? `to ${o.candidate}` : 'to the healthiest replica';
  await confirm(ctx, `Are you sure you want to switchover cluster ${ctx.scope}, demoting current leader ${leader.name} ${target}${scheduledAt ? ` at ${scheduledAt}` : ''}?`, o.force);
  const body = { leader: leader.name, ...(o.candidate ? { candidate: o.candidate } : {}), ...(scheduledAt ? { scheduled_at: scheduledAt } : {}) };
  const request = { leader: leader.name, ...(o.candidate ? { member: o.candidate } : {}), ...(scheduledAt ? { scheduled_at: scheduledAt } : {}) };
  await callOrFallBack(ctx, view, 'Switchover', leader, '/switchover', body, request);
}

/**
 * POST to a member's REST API; when the member cannot be reached at all (not when it answers with
 * an error), write the request into the DCS failover key instead, as patronictl does: the leader's
 * HA loop, or the candidate's when there is no leader, carries it out on its next cycle. The key is
 * written with compare-and-set on the version ctl read, so a concurrent request is not overwritten.
 * Raft mode has no direct DCS access from ctl, so there the error stands.
 */
async function callOrFallBack(ctx: CtlContext, view: ClusterView, what: string, target: Member, path: string, body: unknown, request: FailoverRequest): Promise<void> {
  let reply: RestReply;
  try {
    reply = await ctx.rest.call(target, 'POST', path, body);
  } catch (e) {
    if (!(e instanceof CtlError) || ctx.raftMode) throw e;
    ctx.io.err(`${e.message}; falling back to the DCS (writing the request to the failover key)`);
    const r = await ctx.withDcs((dcs) => dcs.setFailover(request, view.failover?.version ?? null));
    if (!r.ok) throw new CtlError(`${what} request not written: the failover key changed meanwhile (another request is pending?); check with ctl list and retry`);
    ctx.io.out(`${what} request written to the DCS; the cluster's agents carry it out on their next cycle (check with ctl list)`);
    return;
  }
  report(ctx, what, reply);
}

async function failover(ctx: CtlContext, o: { candidate?: string; force?: boolean }): Promise<void> {
  if (!o.candidate) throw usage('failover needs --candidate NAME (a failover goes to a specific member)');
  const view = await readCluster(ctx);
  const candidate = memberNamed(view, o.candidate, ctx.scope);
  const leader = leaderOf(view);
  if (leader?.name === candidate.name) throw new CtlError(`Member ${candidate.name} is already the leader of cluster ${ctx.scope}`);
  await confirm(ctx, `Are you sure you want to failover cluster ${ctx.scope}${leader ? `, demoting current leader ${leader.name}` : ''} to ${candidate.name}?`, o.force);
  // Without a leader, the candidate's own agent takes the request (as patronictl does).
  await callOrFallBack(ctx, view, 'Failover', leader ?? candidate, '/failover', { candidate: candidate.name }, { member: candidate.name });
}

const LEADER_ROLES = new Set(['leader', 'primary', 'master', 'standby-leader']);
const REPLICA_ROLES = new Set(['replica', 'standby']);

/** Members named on the command line (all when none), filtered by -r role. */
export function selectMembers(view: ClusterView, scope: string, names: readonly string[], role = 'any'): Member[] {
  const chosen = names.length > 0 ? names.map((n) => memberNamed(view, n, scope)) : [...view.members.values()].sort((a, b) => a.name.localeCompare(b.name));
  const leaderName = view.leader?.member;
  if (role === 'any') return chosen;
  if (LEADER_ROLES.has(role)) return chosen.filter((m) => m.name === leaderName);
  if (REPLICA_ROLES.has(role)) return chosen.filter((m) => m.name !== leaderName);
  throw usage(`--role: expected one of leader, primary, standby-leader, replica, standby, any; got "${role}"`);
}

/** Sends one request per member; prints Success/Failed lines; throws when any failed. */
async function perMember(ctx: CtlContext, members: readonly Member[], what: string, send: (m: Member) => Promise<RestReply>): Promise<void> {
  if (members.length === 0) throw new CtlError(`no member of cluster ${ctx.scope} matches`);
  let failed = 0;
  for (const m of members) {
    try {
      const r = await send(m);
      if (r.status < 400) ctx.io.out(`Success: ${what} on member ${m.name}${r.status === 202 ? ` (${replyMessage(r)})` : ''}`);
      else { failed++; ctx.io.err(`Failed: ${what} on member ${m.name}, status code=${r.status}, (${replyMessage(r)})`); }
    } catch (e) {
      failed++;
      ctx.io.err(`Failed: ${what} on member ${m.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
  if (failed > 0) throw new CtlError(`${what} failed on ${failed} of ${members.length} member(s)`);
}

interface RestartOpts { role: string; pending?: boolean; scheduled?: string; pgVersion?: string; timeout?: number; force?: boolean }

async function restart(ctx: CtlContext, names: string[], o: RestartOpts): Promise<void> {
  const schedule = parseSchedule(o.scheduled);
  const view = await readCluster(ctx);
  const members = selectMembers(view, ctx.scope, withoutClusterArg(ctx, view, names), o.role);
  await confirm(ctx, `Are you sure you want to restart members ${members.map((m) => m.name).join(', ')}?`, o.force);
  const body = {
    ...(o.pending ? { restart_pending: true } : {}), ...(schedule ? { schedule } : {}),
    ...(o.pgVersion ? { postgres_version: o.pgVersion } : {}), ...(o.timeout ? { timeout: o.timeout } : {}),
  };
  await perMember(ctx, members, schedule ? 'restart scheduled' : 'restart', async (m) => {
    // --force with a schedule replaces an existing scheduled restart, as patronictl does.
    if (schedule && o.force) await ctx.rest.call(m, 'DELETE', '/restart');
    return ctx.rest.call(m, 'POST', '/restart', body);
  });
}

async function reinit(ctx: CtlContext, names: string[], o: { force?: boolean; wait?: boolean }): Promise<void> {
  const view = await readCluster(ctx);
  const members = selectMembers(view, ctx.scope, withoutClusterArg(ctx, view, names));
  if (members.length === 0) throw usage('reinit: name at least one member');
  await confirm(ctx, `Are you sure you want to reinitialize members ${members.map((m) => m.name).join(', ')}?`, o.force);
  await perMember(ctx, members, 'reinitialize', (m) => ctx.rest.call(m, 'POST', '/reinitialize', { force: o.force === true }));
  if (!o.wait) return;
  for (const m of members) {
    ctx.io.out(`Waiting for reinitialize to complete on: ${m.name}`);
    // Bounded: a clone of a large database takes long, but never forever.
    for (let i = 0; i < 3600; i++) {
      await ctx.io.sleep(1000);
      const r = await ctx.rest.call(m, 'GET', '/patroni').catch(() => null);
      const state = r && typeof r.body === 'object' && r.body !== null ? (r.body as Record<string, unknown>)['state'] : undefined;
      if (state !== undefined && state !== 'creating replica') break;
    }
    ctx.io.out(`Reinitialize is completed on: ${m.name}`);
  }
}

export function registerAdminCommands(program: Command, getCtx: GetContext): void {
  program.command('switchover').description('switch the leader role to another member (planned)')
    .argument('[cluster]', 'must be the configured cluster')
    .option('--leader <name>', 'the current leader').option('--primary <name>', 'alias of --leader').option('--master <name>', 'alias of --leader')
    .option('--candidate <name>', 'the member to promote (default: the healthiest replica)')
    .option('--scheduled <timestamp>', 'when: an ISO 8601 timestamp, or "now"')
    .option('--force', 'do not ask for confirmation')
    .action(async (cluster: string | undefined, o: SwitchoverOpts) => switchover(clusterCtx(getCtx, cluster), o));

  program.command('failover').description('promote a specific member (also when there is no healthy leader)')
    .argument('[cluster]', 'must be the configured cluster')
    .option('--leader <name>', 'ignored (a failover names only the candidate)')
    .option('--candidate <name>', 'the member to promote')
    .option('--force', 'do not ask for confirmation')
    .action(async (cluster: string | undefined, o: { candidate?: string; force?: boolean }) => failover(clusterCtx(getCtx, cluster), o));

  program.command('restart').description('restart PostgreSQL on members (all when none is named)')
    .argument('[members...]', 'member names')
    .option('-r, --role <role>', 'only members with this role: leader, replica, any', 'any')
    .option('--pending', 'only members that need a restart for a changed parameter')
    .option('--scheduled <timestamp>', 'when: an ISO 8601 timestamp, or "now"')
    .option('--pg-version <version>', 'only members running an older PostgreSQL version')
    .option('--timeout <seconds>', 'how long to wait for PostgreSQL to start', positiveSeconds)
    .option('--force', 'do not ask for confirmation')
    .action(async (names: string[], o: RestartOpts) => restart(getCtx(), names, o));

  program.command('reload').description('reload the configuration of members (all when none is named)')
    .argument('[members...]', 'member names')
    .option('-r, --role <role>', 'only members with this role: leader, replica, any', 'any')
    .option('--force', 'do not ask for confirmation')
    .action(async (names: string[], o: { role: string; force?: boolean }) => {
      const ctx = getCtx();
      const view = await readCluster(ctx);
      const members = selectMembers(view, ctx.scope, withoutClusterArg(ctx, view, names), o.role);
      await confirm(ctx, `Are you sure you want to reload members ${members.map((m) => m.name).join(', ')}?`, o.force);
      await perMember(ctx, members, 'reload', (m) => ctx.rest.call(m, 'POST', '/reload'));
    });

  program.command('reinit').description('wipe and re-clone members from the leader')
    .argument('<members...>', 'member names')
    .option('--force', 'do not ask for confirmation; cancel a running task on the member')
    .option('--wait', 'wait until the new replica is running')
    .action(async (names: string[], o: { force?: boolean; wait?: boolean }) => reinit(getCtx(), names, o));
}
