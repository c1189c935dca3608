/**
 * Resolves ctl's global options into what commands use: the cluster scope, a way to open the DCS
 * (read-only use: ctl never takes the leader key), and a REST client for members' APIs.
 */
import type { Config } from '../../config/index.js';
import { readCtlConfig, type CtlConfig } from './ctl-config.js';
import { openDcs } from '../../dcs/factory.js';
import type { Dcs } from '../../dcs/port.js';
import type { ClusterView, Member } from '../../dcs/types.js';
import { parseDcsUrl } from './dcs-url.js';
import { readClusterOverRest } from './cluster-rest.js';
import { CtlError, usage } from './errors.js';
import type { CtlIo } from './io.js';
import { RestClient, type Credentials } from './rest.js';

export interface GlobalOptions {
  readonly configFile?: string;
  readonly dcsUrl?: string;
  readonly scope?: string;
  readonly insecure?: boolean;
}

/** Seams for tests: how to open the DCS. */
export interface CtlDeps {
  readonly openDcs?: (config: Config) => Dcs | Promise<Dcs>;
}

export interface CtlContext {
  readonly scope: string;
  readonly io: CtlIo;
  readonly rest: RestClient;
  /**
   * Built-in raft DCS: ctl cannot open it (it lives inside the agents), so cluster reads go to the
   * local agent's REST API (`localApi`) instead, and withDcs refuses.
   */
  readonly raftMode: boolean;
  /** The local agent's REST base URL from the configuration's restapi section, when known. */
  readonly localApi: string | null;
  /** Opens the DCS, runs `fn`, and closes the DCS whatever happens. */
  withDcs<T>(fn: (dcs: Dcs) => Promise<T>): Promise<T>;
}

/**
 * Picks the cluster from -c / PATRONICTL_CONFIG_FILE / --dcs-url / --scope, as the Config that
 * openDcs reads (only its DCS-selecting keys: scope, namespace, name, etcd/etcd3/consul/raft).
 */
export function resolveConfig(o: GlobalOptions, env: CtlIo['env']): { config: Config; auth: Credentials | null; raft: boolean; localApi: string | null } {
  const file = o.configFile ?? env['PATRONICTL_CONFIG_FILE'];
  if (!file && !o.dcsUrl) throw usage('no cluster given: use -c/--config-file FILE, or --dcs-url etcd3://HOST:PORT with --scope NAME');
  const base: CtlConfig = file ? readCtlConfig(file, env) : { namespace: '/service/', auth: null };
  const scope = o.scope ?? base.scope;
  if (!scope) throw usage(o.dcsUrl ? '--scope is required with --dcs-url when no configuration file gives one' : `--scope is required: ${file} gives no scope`);
  let etcd3 = base.etcd3;
  let namespace = base.namespace;
  if (o.dcsUrl) {
    const url = parseDcsUrl(o.dcsUrl);
    // Credentials and TLS settings from a config file still apply to the URL's hosts.
    etcd3 = { ...(base.etcd3 ?? {}), hosts: [...url.hosts], host: undefined, url: undefined } as Config['etcd3'];
    namespace = url.namespace ?? namespace;
  }
  const raft = !etcd3 && base.raft === true;
  if (raft && !base.restApi) throw new CtlError(`${file ?? 'the configuration'}: raft mode: ctl reaches the cluster through the local agent's REST API, but restapi.listen is not set`);
  if (!etcd3 && !raft) throw new CtlError(`no etcd section in ${file ?? 'the configuration'}: ctl reaches the DCS through etcd (or give --dcs-url)`);
  const selection = { scope, namespace, name: base.name ?? 'ctl', etcd3, etcd: undefined, consul: undefined, raft: undefined };
  // Deliberate cast: openDcs reads only the keys above; ctl has no PostgreSQL or REST settings to give.
  return { config: selection as unknown as Config, auth: base.auth, raft, localApi: base.restApi ?? null };
}

export function makeContext(o: GlobalOptions, io: CtlIo, deps: CtlDeps): CtlContext {
  const { config, auth, raft, localApi } = resolveConfig(o, io.env);
  const open = deps.openDcs ?? ((c: Config) => openDcs(c, { member: `ctl-${process.pid}`, ttlSeconds: 30, retryTimeoutSeconds: 5 }));
  return {
    scope: config.scope,
    io,
    rest: new RestClient(auth),
    raftMode: raft,
    localApi,
    async withDcs(fn) {
      if (raft) throw new CtlError('this command needs direct DCS access, which ctl does not have in raft mode (the store lives inside the agents); use the REST API');
      let dcs: Dcs;
      try {
        dcs = await open(config);
      } catch (e) {
        throw new CtlError(`cannot open the DCS: ${e instanceof Error ? e.message : String(e)}`);
      }
      try {
        return await fn(dcs);
      } finally {
        await dcs.close().catch(() => undefined);
      }
    },
  };
}

/** Reads the cluster; a DCS failure becomes a CtlError naming the scope. */
export async function readCluster(ctx: CtlContext): Promise<ClusterView> {
  if (ctx.raftMode && ctx.localApi) return readClusterOverRest(ctx.rest, ctx.localApi, ctx.scope);
  return ctx.withDcs(async (dcs) => {
    try {
      return await dcs.getCluster();
    } catch (e) {
      throw new CtlError(`cannot read cluster ${ctx.scope} from the DCS: ${e instanceof Error ? e.message : String(e)}`);
    }
  });
}

/** The leader member, or null. */
export function leaderOf(view: ClusterView): Member | null {
  return view.leader ? view.members.get(view.leader.member) ?? null : null;
}

/** Looks a member up by name; throws naming the cluster's members when absent. */
export function memberNamed(view: ClusterView, name: string, scope: string): Member {
  const m = view.members.get(name);
  if (!m) throw new CtlError(`member ${name} is not in cluster ${scope} (members: ${[...view.members.keys()].sort().join(', ') || 'none'})`);
  return m;
}

/** Members to try for a cluster-wide request: the leader first, then the others by name. */
export function leaderFirst(view: ClusterView): Member[] {
  const leader = leaderOf(view);
  const rest = [...view.members.values()].filter((m) => m !== leader).sort((a, b) => a.name.localeCompare(b.name));
  return leader ? [leader, ...rest] : rest;
}

/** Asks for confirmation; without a terminal and without --force this is a usage error (exit 2). */
export async function confirm(ctx: CtlContext, question: string, force: boolean | undefined): Promise<void> {
  if (force) return;
  if (!ctx.io.interactive) throw usage(`${question.replace(/\?$/, '')}: refusing without confirmation; stdin is not a terminal, use --force`);
  const answer = (await ctx.io.prompt(`${question} [y/N]: `)).trim().toLowerCase();
  if (answer !== 'y' && answer !== 'yes') throw new CtlError('Aborted');
}

/**
 * patronictl takes the cluster name as the first argument; ctl takes it from the configuration.
 * An optional [cluster] argument is accepted for compatibility and must name the configured scope.
 */
export function checkClusterArg(ctx: CtlContext, name: string | undefined): void {
  if (name !== undefined && name !== ctx.scope) throw usage(`cluster ${JSON.stringify(name)} is not the configured cluster ${JSON.stringify(ctx.scope)} (use --scope)`);
}

/** For member lists: a leading patronictl-style cluster name (that is not also a member) is dropped. */
export function withoutClusterArg(ctx: CtlContext, view: ClusterView, names: readonly string[]): string[] {
  return names[0] === ctx.scope && !view.members.has(ctx.scope) ? names.slice(1) : [...names];
}
