/**
 * Commands that change the dynamic configuration or the cluster's existence: pause, resume,
 * edit-config, remove. Config writes go through a member's REST API (which validates them and
 * refuses shell-command parameters), or, when no member answers, straight to the DCS with
 * compare-and-set on the version that was read.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import yaml from 'js-yaml';
import { parseDynamicConfig } from '../../config/index.js';
import type { ClusterView } from '../../dcs/types.js';
import { clusterCtx, type GetContext } from './cmd-read.js';
import { confirm, leaderFirst, readCluster, type CtlContext } from './context.js';
import { lineDiff } from './diff.js';
import { CtlError, usage } from './errors.js';
import { replyMessage } from './rest.js';
import { applySet, diffAsPatch, mergePatch, parsePgSet, parseSet } from './set-path.js';

type Json = Record<string, unknown>;

/** Sends a config write to the first member that answers (leader first). Returns false when none did. */
async function writeViaRest(ctx: CtlContext, view: ClusterView, method: 'PATCH' | 'PUT', body: Json): Promise<boolean> {
  for (const m of leaderFirst(view)) {
    let r;
    try { r = await ctx.rest.call(m, method, '/config', body); } catch { continue; }
    if (r.status >= 400) throw new CtlError(`${method} /config on ${m.name} failed (HTTP ${r.status}): ${replyMessage(r)}`);
    return true;
  }
  return false;
}

async function setPause(ctx: CtlContext, pause: boolean, wait: boolean | undefined): Promise<void> {
  const view = await readCluster(ctx);
  const paused = view.config?.value['pause'] === true;
  if (pause && paused) throw new CtlError('Cluster is already paused');
  if (!pause && !paused) throw new CtlError('Cluster is not paused');
  if (!(await writeViaRest(ctx, view, 'PATCH', { pause: pause ? true : null }))) {
    throw new CtlError(`no member of cluster ${ctx.scope} answered on its REST API`);
  }
  if (wait) {
    ctx.io.out(`'${pause ? 'pause' : 'resume'}' request sent, waiting until it is recognized by all nodes`);
    // Members publish "pause" in their records once their HA loop has seen the change.
    for (let i = 0; i < 120; i++) {
      const v = await readCluster(ctx);
      if ([...v.members.values()].every((m) => (m.data.pause === true) === pause)) break;
      await ctx.io.sleep(1000);
    }
  }
  ctx.io.out(`Success: cluster management is ${pause ? 'paused' : 'resumed'}`);
}

interface EditOpts { set: string[]; pg: string[]; apply?: string; replace?: string; force?: boolean; quiet?: boolean }

async function readInput(ctx: CtlContext, file: string, what: string): Promise<Json> {
  let text: string;
  try { text = file === '-' ? await ctx.io.readStdin() : readFileSync(file, 'utf8'); } catch (e) {
    throw new CtlError(`${what} ${file}: cannot read: ${e instanceof Error ? e.message : String(e)}`);
  }
  let parsed: unknown;
  try { parsed = yaml.load(text); } catch { throw new CtlError(`${what} ${file}: not valid YAML`); }
  if (parsed === undefined || parsed === null) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new CtlError(`${what} ${file}: expected a YAML mapping`);
  return parsed as Json;
}

/** Opens $EDITOR on the YAML text and returns what was saved. */
function editInteractively(ctx: CtlContext, current: Json): Json {
  const editor = ctx.io.env['EDITOR'] ?? ctx.io.env['VISUAL'] ?? 'vi';
  const dir = mkdtempSync(join(tmpdir(), 'ctl-edit-'));
  try {
    const file = join(dir, 'config.yaml');
    writeFileSync(file, yaml.dump(current, { lineWidth: -1 }), { mode: 0o600 });
    const r = spawnSync(editor, [file], { stdio: 'inherit', shell: true });
    if (r.status !== 0) throw new CtlError(`editor ${editor} exited with status ${String(r.status)}`);
    const parsed = yaml.load(readFileSync(file, 'utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CtlError('the edited text is not a YAML mapping');
    return parsed as Json;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The new config the options describe, from `current`. */
async function newConfig(ctx: CtlContext, current: Json, o: EditOpts): Promise<Json> {
  const changes = [...o.set.map(parseSet), ...o.pg.map(parsePgSet)];
  const nonInteractive = changes.length > 0 || o.apply !== undefined || o.replace !== undefined;
  if (!nonInteractive) {
    if (!ctx.io.interactive) throw usage('edit-config: give --set, --pg, --apply or --replace (stdin is not a terminal, so $EDITOR cannot be used)');
    return editInteractively(ctx, current);
  }
  let next: Json = o.replace !== undefined ? await readInput(ctx, o.replace, '--replace') : current;
  if (o.apply !== undefined) next = mergePatch(next, await readInput(ctx, o.apply, '--apply')) as Json;
  for (const c of changes) next = applySet(next, c);
  return next;
}

async function editConfig(ctx: CtlContext, o: EditOpts): Promise<void> {
  if (o.apply !== undefined && o.replace !== undefined) throw usage('edit-config: --apply and --replace cannot be used together');
  const view = await readCluster(ctx);
  const current = (view.config?.value ?? {}) as Json;
  const next = await newConfig(ctx, current, o);
  const diff = lineDiff(yaml.dump(current, { lineWidth: -1, sortKeys: true }), yaml.dump(next, { lineWidth: -1, sortKeys: true }));
  if (diff.length === 0) { ctx.io.out('Not changed'); return; }
  if (!o.quiet) for (const line of diff) ctx.io.out(line);
  await confirm(ctx, 'Apply these changes?', o.force);
  const viaRest = o.replace !== undefined
    ? await writeViaRest(ctx, view, 'PUT', next)
    : await writeViaRest(ctx, view, 'PATCH', diffAsPatch(current, next));
  if (!viaRest) await writeDirect(ctx, view, next);
  ctx.io.out('Configuration changed');
}

/** No member answered: validate locally and CAS-write the DCS key on the version that was read. */
async function writeDirect(ctx: CtlContext, view: ClusterView, next: Json): Promise<void> {
  const checked = parseDynamicConfig(next);
  if (checked.errors.length > 0) throw new CtlError(`refusing an invalid configuration: ${checked.errors.map((p) => `${p.path}: ${p.message}`).join('; ')}`);
  const result = await ctx.withDcs((dcs) => dcs.setConfig(next, view.config ? view.config.version : null));
  if (!result.ok) throw new CtlError('the configuration changed in the DCS while editing; nothing written, run the command again');
  ctx.io.err('warning: no member answered on its REST API; wrote the configuration directly to the DCS');
}

async function removeCluster(ctx: CtlContext, name: string, force: boolean | undefined): Promise<void> {
  if (name !== ctx.scope) throw usage(`remove: cluster ${JSON.stringify(name)} is not the configured cluster ${JSON.stringify(ctx.scope)}`);
  const view = await readCluster(ctx);
  if (view.leader && !force) {
    throw new CtlError(`cluster ${name} has a running leader (${view.leader.member}); stop every agent first, or use --force`);
  }
  if (!force) {
    if (!ctx.io.interactive) throw usage(`remove ${name}: refusing without confirmation; stdin is not a terminal, use --force`);
    const typed = (await ctx.io.prompt(`Please confirm the cluster name to remove: `)).trim();
    if (typed !== name) throw new CtlError('Cluster names specified do not match');
  }
  await ctx.withDcs((dcs) => dcs.deleteCluster());
  ctx.io.out(`Removed cluster ${name} from the DCS`);
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function registerConfigCommands(program: Command, getCtx: GetContext): void {
  program.command('pause').description('pause cluster management (no automatic failover)')
    .argument('[cluster]', 'must be the configured cluster')
    .option('--wait', 'wait until every member has seen it')
    .action(async (cluster: string | undefined, o: { wait?: boolean }) => setPause(clusterCtx(getCtx, cluster), true, o.wait));
  program.command('resume').description('resume cluster management')
    .argument('[cluster]', 'must be the configured cluster')
    .option('--wait', 'wait until every member has seen it')
    .action(async (cluster: string | undefined, o: { wait?: boolean }) => setPause(clusterCtx(getCtx, cluster), false, o.wait));

  program.command('edit-config').description('change the dynamic configuration (non-interactively with -s/-p/--apply/--replace)')
    .argument('[cluster]', 'must be the configured cluster')
    .option('-s, --set <key.path=value>', 'set a key (YAML value; null deletes); repeatable', collect, [] as string[])
    .option('-p, --pg <param=value>', 'set postgresql.parameters.PARAM; repeatable', collect, [] as string[])
    .option('--apply <file>', 'merge a YAML file (or - for stdin) into the configuration')
    .option('--replace <file>', 'replace the configuration with a YAML file (or - for stdin)')
    .option('-q, --quiet', 'do not show the diff')
    .option('--force', 'do not ask for confirmation')
    .action(async (cluster: string | undefined, o: EditOpts) => editConfig(clusterCtx(getCtx, cluster), o));

  program.command('remove').description('delete all of a cluster\'s keys from the DCS')
    .argument('<cluster>', 'the cluster name, to confirm')
    .option('--force', 'do not ask for confirmation; remove even while a leader exists')
    .action(async (name: string, o: { force?: boolean }) => removeCluster(getCtx(), name, o.force));
}
