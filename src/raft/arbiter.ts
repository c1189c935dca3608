/**
 * Arbiter mode (`orchestrator --raft-only CONFIG`): a Raft voter with no PostgreSQL, so a cluster of
 * two data nodes has a third vote and survives the loss of either. It reads only `scope`,
 * `namespace`, `raft:` (self_addr, bind_addr, partner_addrs, data_dir, password, join and every
 * QLUSTER setting, checked as at config load) and `restapi.listen` from the agent's YAML format; every other section
 * is ignored, so a data node's file works too. The optional REST API answers GET /raft, GET /health
 * (200 while a Raft leader is known, else 503) and GET /jobs.
 *
 * It also runs membership jobs while it leads (they are stored in the replicated KV like any member's).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import yaml from 'js-yaml';
import { DEFAULT_TIMING } from '../config/dynamic.js';
import { qlusterSettingsOf, raftSectionSchema } from '../config/raft.js';
import { raftJobsPrefix } from '../dcs/raft/embedded.js';
import type { QlusterRaftSettings } from './core/index.js';
import { addressOf, RaftNode, type RaftNodeLogger } from './node.js';
import { nodeOptionsFromQluster } from './qluster-options.js';

export interface ArbiterSettings {
  readonly scope: string;
  readonly namespace: string;
  readonly selfAddr: string;
  readonly bindAddr: string;
  readonly partners: readonly string[];
  readonly dataDir: string;
  readonly password: string | null;
  readonly electionMs: number;
  readonly heartbeatMs: number;
  /** Every QLUSTER setting, defaults filled in (electionMs/heartbeatMs repeat two of them). */
  readonly qluster: QlusterRaftSettings;
  readonly join: boolean;
  /** "host:port" for the REST API, or null for none. */
  readonly restListen: string | null;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function needString(section: Record<string, unknown>, key: string, where: string): string {
  const v = section[key];
  if (typeof v !== 'string' || v.trim() === '') throw new Error(`${where}${key}: required: expected a non-empty string, got ${JSON.stringify(v ?? null)}`);
  return v.trim();
}

/** Reads the arbiter's settings from a parsed YAML document; throws naming the key on a problem. */
export function arbiterSettings(doc: unknown): ArbiterSettings {
  if (!isObject(doc)) throw new Error('configuration: expected a YAML mapping at the top level');
  const raft = doc['raft'];
  if (!isObject(raft)) throw new Error('raft: required for --raft-only: a section with self_addr, partner_addrs and data_dir');
  const selfAddr = needString(raft, 'self_addr', 'raft.');
  addressOf(selfAddr);
  const rawPartners = raft['partner_addrs'];
  const partners = (Array.isArray(rawPartners) ? rawPartners : String(rawPartners ?? '').split(','))
    .map((s) => String(s).trim()).filter((s) => s !== '' && s !== selfAddr);
  for (const p of partners) addressOf(p);
  const parsed = raftSectionSchema.safeParse(raft);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`raft.${issue.path.map(String).join('.')}: ${issue.message}, got ${JSON.stringify(raft[String(issue.path[0])] ?? null)}`);
  }
  // Timing defaults follow the lease ttl as on the data nodes (set raft.node-timeout to pin them).
  const bootstrapDcs = isObject(doc['bootstrap']) && isObject(doc['bootstrap']['dcs']) ? doc['bootstrap']['dcs'] : {};
  const ttl = Number(doc['ttl'] ?? bootstrapDcs['ttl'] ?? DEFAULT_TIMING.ttl);
  const qluster = qlusterSettingsOf(parsed.data, Number.isFinite(ttl) && ttl > 0 ? ttl : DEFAULT_TIMING.ttl);
  const join = parsed.data.join === true;
  if (partners.length === 0 && !join) throw new Error('raft.partner_addrs: an arbiter needs the data nodes\' Raft addresses (or raft.join: true)');
  // The same rules as at config load (heartbeat < node-timeout, replication-factor...): fail here, naming the key.
  nodeOptionsFromQluster(qluster, join && partners.length === 0 ? null : partners.length + 1);
  const restapi = isObject(doc['restapi']) ? doc['restapi'] : {};
  const namespace = typeof doc['namespace'] === 'string' ? doc['namespace'] : '/service/';
  return {
    scope: needString(doc, 'scope', ''),
    namespace,
    selfAddr,
    bindAddr: typeof raft['bind_addr'] === 'string' ? raft['bind_addr'] : selfAddr,
    partners,
    dataDir: needString(raft, 'data_dir', 'raft.'),
    password: raft['password'] !== undefined && raft['password'] !== null ? String(raft['password']) : null,
    electionMs: qluster.nodeTimeoutMs,
    heartbeatMs: qluster.heartbeatIntervalMs,
    qluster,
    join,
    restListen: typeof restapi['listen'] === 'string' ? restapi['listen'] : null,
  };
}

export interface Arbiter {
  readonly node: RaftNode;
  /** The REST API's port, or null when restapi.listen is not set. */
  readonly apiPort: number | null;
  close(): Promise<void>;
}

/** Starts the Raft voter and (if configured) its REST API. */
export async function startArbiter(s: ArbiterSettings, log: RaftNodeLogger): Promise<Arbiter> {
  const node = new RaftNode({
    id: s.selfAddr, listen: addressOf(s.bindAddr), voters: [s.selfAddr, ...s.partners], dataDir: s.dataDir,
    ...nodeOptionsFromQluster(s.qluster, s.join && s.partners.length === 0 ? null : s.partners.length + 1),
    requestTimeoutMs: 5000, log, jobsPrefix: raftJobsPrefix(s.namespace, s.scope),
    ...(s.password !== null ? { clusterToken: s.password } : {}), ...(s.join ? { join: true } : {}),
  });
  await node.start();
  let server: Server | null = null;
  try {
    server = s.restListen !== null ? await listen(s.restListen, node) : null;
  } catch (e) {
    await node.close();
    throw e;
  }
  const srv = server;
  return {
    node,
    apiPort: srv ? (srv.address() as AddressInfo).port : null,
    close: async () => {
      if (srv) await new Promise<void>((r) => { srv.close(() => r()); srv.closeAllConnections(); });
      await node.handOffLeadership(1000);
      await node.close();
    },
  };
}

async function answer(node: RaftNode, method: string, path: string): Promise<{ status: number; body: unknown }> {
  if (method !== 'GET' && method !== 'HEAD') return { status: 405, body: { error: `method ${method} is not allowed; the arbiter API is read-only` } };
  if (path === '/raft') return { status: 200, body: node.describe() };
  if (path === '/health') {
    const d = node.describe();
    return { status: d.leader !== null ? 200 : 503, body: { state: 'arbiter', role: d.role, leader: d.leader, term: d.term } };
  }
  if (path === '/jobs') return { status: 200, body: await node.jobs!.list() };
  return { status: 404, body: { error: `unknown path ${JSON.stringify(path)}; the arbiter serves /raft, /health and /jobs` } };
}

function listen(hostPort: string, node: RaftNode): Promise<Server> {
  const { host, port } = hostPort.endsWith(':0') ? { host: hostPort.slice(0, -2), port: 0 } : addressOf(hostPort);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!.replace(/\/+$/, '') || '/';
    answer(node, (req.method ?? 'GET').toUpperCase(), path)
      .catch((e: unknown) => ({ status: 503, body: { error: `raft unavailable: ${e instanceof Error ? e.message : String(e)}` } }))
      .then((r) => {
        const text = JSON.stringify(r.body);
        res.writeHead(r.status, { 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) });
        res.end(req.method === 'HEAD' ? undefined : text);
      }, () => res.destroy());
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host.replace(/^\[|\]$/g, ''), () => { server.off('error', reject); resolve(server); });
  });
}

/** `orchestrator --raft-only CONFIG`: runs until SIGTERM/SIGINT; resolves with the exit code. */
export async function runArbiter(configPath: string): Promise<number> {
  let settings: ArbiterSettings;
  try {
    settings = arbiterSettings(yaml.load(readFileSync(configPath, 'utf8')));
  } catch (e) {
    console.error(`orchestrator --raft-only ${configPath}: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
  const { default: pino } = await import('pino');
  const log = pino({ base: { arbiter: settings.selfAddr } });
  const arb = await startArbiter(settings, log);
  log.info({ raft: settings.selfAddr, api: arb.apiPort, data: settings.dataDir }, 'arbiter started (raft voter, no PostgreSQL)');
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
  await arb.close();
  log.info({}, 'arbiter stopped');
  return 0;
}
