/**
 * A local cluster for end-to-end tests and the demo: a real etcd and N real agents (child processes
 * running dist/src/cli/orchestrator.js), each with its own PostgreSQL 15 on loopback, free ports and a
 * temp root the `postgres` OS user owns when we run as root. Everything started here is stopped in
 * destroy(), on process exit and on SIGINT/SIGTERM: the agents' process groups, and each node's
 * postmaster by the PID in its postmaster.pid (the agent starts PostgreSQL in its own session, as a
 * production agent must, so killing the agent does not kill PostgreSQL).
 */
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { fencePaths } from '../../src/fence/fence.js';
import { EtcdServer } from './etcd.js';
import { FakeConsul } from './fake-consul.js';
import { freePort, sleep, waitFor } from './ports.js';
import { FaultProxy } from './proxy.js';
import { spawnManaged, type Managed } from './procs.js';

export const AGENT = resolve('dist/src/cli/orchestrator.js');

/** Extra node flags for every agent, from AGENT_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/p" to profile). */
const agentNodeArgs = (): string[] => (process.env.AGENT_NODE_ARGS ?? '').split(/\s+/).filter(Boolean);
export const CTL = resolve('dist/src/cli/ctl.js');
export const SUPERUSER = { username: 'postgres', password: 'super-secret' };

function postgresIds(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  const f = line?.split(':');
  return f ? { uid: Number(f[2]), gid: Number(f[3]) } : null;
}

export interface ClusterOptions {
  readonly nodes?: number;
  readonly ttl?: number;
  readonly loopWait?: number;
  readonly retryTimeout?: number;
  readonly scope?: string;
  /** Extra keys merged into bootstrap.dcs. */
  readonly dcs?: Record<string, unknown>;
  /** Per-node tags, by index. */
  readonly tags?: Record<number, Record<string, unknown>>;
  readonly logToStderr?: boolean;
  /**
   * The DCS the agents use: a real etcd (default), or the FAKE Consul (test/support/fake-consul.ts)
   * served from this test process, with session_ttl_min lowered to 1 s so short test ttls work.
   * (Named dcsKind because `dcs` above already holds bootstrap.dcs keys.)
   */
  readonly dcsKind?: 'etcd3' | 'consul' | 'raft';
  /** Raft only: extra keys for every node's raft section (e.g. QLUSTER timings). */
  readonly raft?: Record<string, unknown>;
  /**
   * With etcd: put a FaultProxy of ours between each agent and etcd (node.etcdProxy), so a test can
   * cut, blackhole or delay one node's link to the DCS.
   */
  readonly etcdProxies?: boolean;
  /** Extra keys for a node's postgresql section (e.g. callbacks), by node name. */
  readonly postgresql?: (name: string, nodeDir: string) => Record<string, unknown>;
}

export interface AddNodeOptions {
  readonly tags?: Record<string, unknown>;
  /**
   * Raft only: start the new node with raft.join: true (it waits, empty, for the cluster to add it
   * with POST /raft/peers) and the existing nodes as partners.
   */
  readonly raftJoin?: boolean;
}

const liveClusters = new Set<LocalCluster>();
let hooked = false;
function hook(): void {
  if (hooked) return;
  hooked = true;
  // An interrupted run (SIGINT/SIGTERM: procs.ts exits the process) never reaches destroy(): end
  // the postmasters and fences here, and remove the temp root as destroy() would.
  process.on('exit', () => {
    for (const c of liveClusters) {
      c.killPostmastersSync();
      if (!process.env.KEEP_E2E) {
        try { rmSync(c.root, { recursive: true, force: true }); } catch { /* a process ended a moment ago may still write there */ }
      }
    }
  });
}

export class AgentNode {
  proc: Managed | null = null;
  /** The node's own proxy to etcd, when the cluster was created with etcdProxies. */
  etcdProxy: FaultProxy | null = null;
  constructor(
    readonly cluster: LocalCluster,
    readonly name: string,
    readonly configPath: string,
    readonly dataDir: string,
    readonly pgPort: number,
    readonly restPort: number,
    readonly logFile: string,
  ) {}

  get apiBase(): string { return `http://127.0.0.1:${this.restPort}`; }

  start(): void {
    if (this.proc) return;
    this.proc = spawnManaged(process.execPath, [...agentNodeArgs(), AGENT, this.configPath], { logFile: this.logFile, env: { ...process.env, PATRONI_LOG_LEVEL: 'INFO' } });
  }

  /** SIGTERM: the graceful path. */
  async stop(timeoutMs = 30_000): Promise<void> {
    if (!this.proc) return;
    const p = this.proc;
    this.proc = null;
    p.child.kill('SIGTERM');
    const t = setTimeout(() => p.signal('SIGKILL'), timeoutMs);
    await p.exited;
    clearTimeout(t);
  }

  /** SIGKILL the agent only (its PostgreSQL keeps running). */
  async killAgent(): Promise<void> {
    if (!this.proc) return;
    const p = this.proc;
    this.proc = null;
    p.child.kill('SIGKILL');
    await p.exited;
  }

  postmasterPid(): number | null {
    try {
      const pid = Number(readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      if (!pid) return null;
      process.kill(pid, 0);
      return pid;
    } catch { return null; }
  }

  /** SIGKILL the postmaster (a PostgreSQL crash). */
  killPostgres(): boolean {
    const pid = this.postmasterPid();
    if (!pid) return false;
    try { process.kill(pid, 'SIGKILL'); return true; } catch { return false; }
  }

  /** Node death: the agent and its postmaster, both SIGKILLed. */
  async killNode(): Promise<void> {
    this.killPostgres();
    await this.killAgent();
  }

  async api(path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown }> {
    const r = await fetch(this.apiBase + path, { ...init, signal: AbortSignal.timeout(init.method && init.method !== 'GET' ? 90_000 : 3000) });
    const text = await r.text();
    let body: unknown = text;
    try { body = JSON.parse(text); } catch { /* plain text */ }
    return { status: r.status, body };
  }

  async status(path = '/patroni'): Promise<number> {
    try { return (await this.api(path)).status; } catch { return 0; }
  }

  /**
   * A client with a CLIENT-side timeout only. A server-side statement_timeout would cancel a commit
   * that waits for a synchronous standby, and PostgreSQL then reports the (local-only) commit as a
   * success: a writer would count an unprotected write as acknowledged.
   */
  client(): pg.Client {
    return new pg.Client({ host: '127.0.0.1', port: this.pgPort, user: SUPERUSER.username, password: SUPERUSER.password, database: 'postgres', connectionTimeoutMillis: 2000, query_timeout: 5000 } as pg.ClientConfig);
  }

  async query<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    const c = this.client();
    c.on('error', () => undefined);
    await c.connect();
    try { return (await c.query(sql, params)).rows as T[]; } finally { await c.end().catch(() => undefined); }
  }

  /** true when this node's PostgreSQL accepts a write. */
  async writable(): Promise<boolean> {
    try {
      const r = await this.query<{ r: boolean }>('SELECT pg_is_in_recovery() AS r');
      return r[0]?.r === false;
    } catch { return false; }
  }

  log(): string {
    try { return readFileSync(this.logFile, 'utf8'); } catch { return ''; }
  }
}

export class LocalCluster {
  readonly nodes: AgentNode[] = [];
  /** Raft addresses ("127.0.0.1:port") of the nodes, when created with dcsKind 'raft'. */
  raftAddrs: string[] = [];
  private constructor(
    readonly root: string,
    private readonly etcdServer: EtcdServer | null,
    readonly scope: string,
    /** The FAKE Consul the agents use, when created with dcsKind 'consul'. */
    readonly consul: FakeConsul | null = null,
    private readonly options: ClusterOptions = {},
  ) {}

  /** The etcd the agents use (throws for a cluster on the FAKE Consul or the built-in Raft DCS). */
  get etcd(): EtcdServer {
    if (!this.etcdServer) throw new Error(`this LocalCluster runs on ${this.consul ? 'the FAKE Consul' : 'the built-in Raft DCS'}, not etcd`);
    return this.etcdServer;
  }

  /** Whether the agents use an etcd this cluster started. */
  get hasEtcd(): boolean {
    return this.etcdServer !== null;
  }

  static async create(o: ClusterOptions = {}): Promise<LocalCluster> {
    hook();
    const root = mkdtempSync(join(tmpdir(), 'orch-e2e-'));
    const ids = postgresIds();
    if (ids) chownSync(root, ids.uid, ids.gid);
    const consul = o.dcsKind === 'consul' ? await FakeConsul.start({ sessionTtlMinMs: 1000 }) : null;
    const etcd = consul || o.dcsKind === 'raft' ? null : await EtcdServer.start();
    const c = new LocalCluster(root, etcd, o.scope ?? 'e2e', consul, o);
    liveClusters.add(c);
    const n = o.nodes ?? 3;
    if (o.dcsKind === 'raft') for (let i = 0; i < n; i++) c.raftAddrs.push(`127.0.0.1:${await freePort()}`);
    for (let i = 0; i < n; i++) await c.createNode(i, o.tags?.[i] ?? {}, false);
    return c;
  }

  /**
   * Add a node to a running cluster (not started: call start()). On Raft, raftJoin makes it a
   * joining server that the cluster must add by job (POST /raft/peers with its address, raftAddrs
   * holds it last).
   */
  async addNode(a: AddNodeOptions = {}): Promise<AgentNode> {
    if (this.raftAddrs.length) this.raftAddrs.push(`127.0.0.1:${await freePort()}`);
    return this.createNode(this.nodes.length, a.tags ?? {}, a.raftJoin ?? false);
  }

  private async createNode(i: number, tags: Record<string, unknown>, raftJoin: boolean): Promise<AgentNode> {
    const o = this.options;
    const name = `node${i + 1}`;
    const pgPort = await freePort();
    const restPort = await freePort();
    const dataDir = join(this.root, name, 'data');
    const nodeDir = join(this.root, name);
    mkdirSync(nodeDir, { recursive: true });
    const ids = postgresIds();
    if (ids) chownSync(nodeDir, ids.uid, ids.gid);
    const dcs = { ttl: o.ttl ?? 10, loop_wait: o.loopWait ?? 2, retry_timeout: o.retryTimeout ?? 3, maximum_lag_on_failover: 1048576, postgresql: { use_pg_rewind: true, use_slots: true, parameters: { wal_keep_size: '64MB' } }, ...(o.dcs ?? {}) };
    let etcdProxy: FaultProxy | null = null;
    if (this.etcdServer && o.etcdProxies) {
      const [host, port] = this.etcd.endpoint.replace(/^https?:\/\//, '').split(':');
      etcdProxy = await new FaultProxy(host!, Number(port)).start();
    }
    const config = {
      scope: this.scope,
      name,
      restapi: { listen: `127.0.0.1:${restPort}`, connect_address: `127.0.0.1:${restPort}` },
      ...(this.consul ? { consul: { host: this.consul.endpoint, register_service: true } }
        : this.raftAddrs.length ? { raft: { self_addr: this.raftAddrs[i], partner_addrs: this.raftAddrs.filter((_, j) => j !== i), data_dir: join(nodeDir, 'raft'), ...this.options.raft, ...(raftJoin ? { join: true } : {}) } }
          : { etcd3: { hosts: [etcdProxy ? etcdProxy.endpoint : this.etcd.endpoint] } }),
      bootstrap: {
        dcs,
        initdb: [{ encoding: 'UTF8' }, 'data-checksums'],
        pg_hba: ['host replication replicator 127.0.0.1/32 scram-sha-256', 'host all all 127.0.0.1/32 scram-sha-256'],
      },
      postgresql: {
        listen: `127.0.0.1:${pgPort}`,
        connect_address: `127.0.0.1:${pgPort}`,
        data_dir: dataDir,
        bin_dir: '/usr/lib/postgresql/15/bin',
        pgpass: join(nodeDir, 'pgpass'),
        authentication: {
          superuser: SUPERUSER,
          replication: { username: 'replicator', password: 'repl-secret' },
          rewind: { username: 'rewinder', password: 'rewind-secret' },
        },
        parameters: { unix_socket_directories: nodeDir, shared_buffers: '16MB', max_connections: 30 },
        pg_ctl_timeout: 30,
        ...(o.postgresql?.(name, nodeDir) ?? {}),
      },
      tags,
    };
    const configPath = join(nodeDir, `${name}.yml`);
    writeFileSync(configPath, JSON.stringify(config, null, 2)); // JSON is valid YAML
    const node = new AgentNode(this, name, configPath, dataDir, pgPort, restPort, join(this.root, `${name}.agent.log`));
    node.etcdProxy = etcdProxy;
    this.nodes.push(node);
    return node;
  }

  node(name: string): AgentNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  startAll(): void { for (const n of this.nodes) n.start(); }

  /** The nodes whose PostgreSQL accepts writes right now. */
  async writableNodes(): Promise<AgentNode[]> {
    const res = await Promise.all(this.nodes.map(async (n) => ((await n.writable()) ? n : null)));
    return res.filter((n): n is AgentNode => n !== null);
  }

  /** Wait for exactly one node whose /primary answers 200; returns it. */
  async waitForPrimary(timeoutMs = 60_000, except: readonly AgentNode[] = []): Promise<AgentNode> {
    return waitFor('one primary', async () => {
      const ok = [];
      for (const n of this.nodes) if (!except.includes(n) && (await n.status('/primary')) === 200) ok.push(n);
      return ok.length === 1 ? ok[0] : null;
    }, timeoutMs, 100);
  }

  /** Wait until every other running node streams from the primary (/replica 200). */
  async waitForReplicas(count: number, timeoutMs = 60_000): Promise<AgentNode[]> {
    let last = '';
    return waitFor(`${count} streaming replicas`, async () => {
      const ok = [];
      const seen: string[] = [];
      for (const n of this.nodes) {
        const st = await n.status('/replica');
        // /replica only says PostgreSQL runs in recovery; /patroni (probed live) says whether its
        // WAL receiver streams. A fault injected before the replicas reconnect tests something else.
        const state = st === 200 ? await n.api('/patroni').then((r) => (r.body as { replication_state?: string }).replication_state, () => undefined) : undefined;
        seen.push(`${n.name} ${st}${state ? ` ${state}` : ''}`);
        if (st === 200 && state === 'streaming') ok.push(n);
      }
      last = seen.join(', ');
      return ok.length >= count ? ok : null;
    }, timeoutMs, 200).catch((e: unknown) => {
      if (e instanceof Error) e.message += ` (last GET /replica answers and replication states: ${last})`;
      throw e;
    });
  }

  /**
   * Wait for one primary and `replicas` streaming replicas; on timeout print the agents' logs
   * before failing, so a broken bootstrap explains itself.
   */
  async waitForHealthy(replicas: number, timeoutMs = 90_000): Promise<AgentNode> {
    try {
      const primary = await this.waitForPrimary(timeoutMs);
      await this.waitForReplicas(replicas, timeoutMs);
      return primary;
    } catch (e) {
      // In the error itself rather than on stdout: CI shows the failing tests' errors at the end
      // of a long run, and the cause of a bootstrap that never became healthy is in these lines.
      const logs = `${this.dumpLogs(40)}\nPostgreSQL server log tails:\n${this.dumpServerLogs(20)}`;
      if (e instanceof Error) e.message += `\nagents' log tails:\n${logs}`;
      else console.log(logs);
      throw e;
    }
  }

  ctlArgs(): string[] {
    return ['-c', this.nodes[0]!.configPath];
  }

  killPostmastersSync(): void {
    for (const n of this.nodes) {
      const pid = n.postmasterPid();
      if (pid) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      // The agents' fence processes run in their own sessions: end them by their pid files.
      const f = fencePaths(this.scope, n.name, n.dataDir);
      try { process.kill(Number(readFileSync(f.pid, 'utf8')), 'SIGKILL'); } catch { /* none */ }
      for (const file of [f.state, f.pid, f.log]) rmSync(file, { force: true });
    }
  }

  /** Print agents' logs (on failure). */
  dumpLogs(tailLines = 60): string {
    return this.nodes.map((n) => `---- ${n.name} ----\n${n.log().split('\n').slice(-tailLines).join('\n')}`).join('\n');
  }

  /**
   * The tails of the nodes' PostgreSQL server logs (pg_ctl -l, beside each data directory). Why a
   * standby does not stream (a timeline it cannot follow, a missing slot, a refused connection) is
   * only written there, and destroy() removes the files.
   */
  dumpServerLogs(tailLines = 30): string {
    return this.nodes.map((n) => {
      let text: string;
      try { text = readFileSync(`${n.dataDir}.log`, 'utf8'); } catch (e) { text = `(no server log: ${(e as Error).message})`; }
      return `---- ${n.name} PostgreSQL ----\n${text.split('\n').slice(-tailLines).join('\n')}`;
    }).join('\n');
  }

  async destroy(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.killAgent()));
    this.killPostmastersSync();
    await sleep(200);
    await Promise.all(this.nodes.map((n) => n.etcdProxy?.close()));
    await this.etcdServer?.destroy();
    await this.consul?.close();
    liveClusters.delete(this);
    if (!process.env.KEEP_E2E) rmSync(this.root, { recursive: true, force: true });
  }
}

export { existsSync };
