/**
 * A FAKE Consul HTTP server for tests: no Consul binary can be installed on these machines (not in
 * the Debian or npm registries). It serves, on 127.0.0.1 and a port the OS hands out, the parts of
 * Consul's documented HTTP API that src/dcs/consul uses, with Consul's semantics (the rules live in
 * fake-consul-state.ts, each citing the documentation):
 *   /v1/kv/<key>            GET (recurse, index + wait blocking queries, X-Consul-Index, 404),
 *                           PUT (cas, acquire, release, flags), DELETE (cas, recurse)
 *   /v1/session/create | renew/<id> | destroy/<id> | info/<id>
 *   /v1/agent/service/register | deregister/<id>, /v1/agent/services
 *   /v1/status/leader
 * Availability switch (`setMode`): 'up'; 'refuse' (the server is stopped: connections refused;
 * state kept; session timers paused and restarted in full on 'up', as on a Consul leader
 * election); 'blackhole' (requests are accepted and never answered; sessions keep expiring, as in
 * a partition between the client and a healthy cluster); 'no-leader' (HTTP 500 "No cluster leader",
 * session timers paused).
 * Not modelled: ACL policies (one optional token, all-or-nothing), multiple datacenters, the
 * transaction endpoint, health checks that ever fail, tombstone reaping.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { FakeConsulError, FakeConsulState, parseDuration } from './fake-consul-state.js';

export type FakeConsulMode = 'up' | 'refuse' | 'blackhole' | 'no-leader';

export interface FakeConsulOptions {
  /** The server's session_ttl_min (Consul default 10s; lower it for short-TTL tests, as `session_ttl_min` does). */
  readonly sessionTtlMinMs?: number;
  /** When set, every request must carry this X-Consul-Token (or ?token=), else 403. */
  readonly aclToken?: string;
  readonly port?: number;
}

export interface FakeRequest { readonly method: string; readonly path: string; readonly query: Record<string, string>; readonly body: string }

const DC = 'dc1';
const MAX_WAIT_MS = 600_000; // docs: wait "is limited to 10 minutes"
const DEFAULT_WAIT_MS = 300_000; // docs: "If not set, the wait time defaults to 5 minutes"

export class FakeConsul {
  readonly state: FakeConsulState;
  /** The agent's registered services, by ID (the JSON body as sent). */
  readonly services = new Map<string, Record<string, unknown>>();
  /** Recent requests, oldest first (at most 1000), for tests to inspect what a client sent. */
  readonly requests: FakeRequest[] = [];
  mode: FakeConsulMode = 'up';
  port = 0;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();

  private constructor(private readonly o: FakeConsulOptions) {
    this.state = new FakeConsulState(o.sessionTtlMinMs);
  }

  static async start(o: FakeConsulOptions = {}): Promise<FakeConsul> {
    const f = new FakeConsul(o);
    await f.listen(o.port ?? 0);
    return f;
  }

  get endpoint(): string { return `127.0.0.1:${this.port}`; }
  get url(): string { return `http://127.0.0.1:${this.port}`; }

  private async listen(port: number): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.keepAliveTimeout = 60_000;
    server.on('connection', (s) => { this.sockets.add(s); s.on('close', () => this.sockets.delete(s)); });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    this.server = server;
  }

  /** Switch availability (see the file comment). 'refuse' closes the listener; 'up' reopens it on the same port. */
  async setMode(mode: FakeConsulMode): Promise<void> {
    const wasListening = this.server !== null;
    this.mode = mode;
    this.state.setTimersRunning(mode === 'up' || mode === 'blackhole');
    if (mode === 'refuse' && wasListening) {
      const s = this.server!;
      this.server = null;
      for (const sock of this.sockets) sock.destroy();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    } else if (mode !== 'refuse' && !wasListening) {
      await this.listen(this.port);
    }
  }

  async close(): Promise<void> {
    this.state.close();
    for (const s of this.sockets) s.destroy();
    const s = this.server;
    this.server = null;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const query = Object.fromEntries(url.searchParams);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query, body: body.toString('utf8') });
    if (this.requests.length > 1000) this.requests.shift();
    if (this.mode === 'blackhole') return; // never answered: only the client's deadline ends it
    try {
      this.authorize(req, query);
      await this.route(req.method ?? 'GET', decodeURIComponent(url.pathname), query, body, res);
    } catch (e) {
      const err = e instanceof FakeConsulError ? e : new FakeConsulError(500, String(e));
      this.reply(res, err.status, err.message, 'text/plain');
    }
  }

  private authorize(req: IncomingMessage, query: Record<string, string>): void {
    if (query.dc && query.dc !== DC) throw new FakeConsulError(500, 'No path to datacenter');
    if (!this.o.aclToken) return;
    const token = req.headers['x-consul-token'] ?? query.token;
    if (token !== this.o.aclToken) throw new FakeConsulError(403, 'Permission denied');
  }

  private reply(res: ServerResponse, status: number, body: unknown, type = 'application/json', index?: number): void {
    if (this.mode === 'blackhole' || res.writableEnded || res.destroyed) return;
    const text = type === 'text/plain' ? String(body) : JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': type,
      ...(index !== undefined ? { 'X-Consul-Index': String(index), 'X-Consul-KnownLeader': 'true', 'X-Consul-LastContact': '0' } : {}),
    });
    res.end(text);
  }

  private async route(method: string, path: string, q: Record<string, string>, body: Buffer, res: ServerResponse): Promise<void> {
    if (path === '/v1/status/leader' && method === 'GET') {
      // Docs (api-docs/status): the leader's address, or "" while there is none.
      return this.reply(res, 200, this.mode === 'no-leader' ? '' : '127.0.0.1:8300');
    }
    if (path.startsWith('/v1/agent/')) return this.agent(method, path, body, res);
    // Everything below needs the servers: with no leader Consul answers 500 "No cluster leader".
    if (this.mode === 'no-leader') throw new FakeConsulError(500, 'No cluster leader');
    if (path.startsWith('/v1/kv/')) return this.kv(method, path.slice('/v1/kv/'.length), q, body, res);
    if (path.startsWith('/v1/session/')) return this.session(method, path.slice('/v1/session/'.length), body, res);
    throw new FakeConsulError(404, `fake consul: no route for ${method} ${path}`);
  }

  private async kv(method: string, key: string, q: Record<string, string>, body: Buffer, res: ServerResponse): Promise<void> {
    const recurse = 'recurse' in q;
    if (method === 'GET') {
      if ('index' in q) await this.block(key, recurse, Number(q.index), q.wait);
      const entries = this.state.read(key, recurse);
      const index = this.state.kvIndex(key, recurse);
      // Docs: "If no key exists at the given path, a 404 is returned"; the index header is still set.
      if (entries.length === 0) return this.reply(res, 404, '', 'text/plain', index);
      return this.reply(res, 200, entries.map((e) => this.state.entryJson(e)), 'application/json', index);
    }
    if (method === 'PUT') {
      const ok = this.state.put(key, body, {
        ...(q.cas !== undefined ? { cas: q.cas } : {}), ...(q.acquire !== undefined ? { acquire: q.acquire } : {}),
        ...(q.release !== undefined ? { release: q.release } : {}), ...(q.flags !== undefined ? { flags: q.flags } : {}),
      });
      return this.reply(res, 200, ok);
    }
    if (method === 'DELETE') {
      return this.reply(res, 200, this.state.delete(key, { recurse, ...(q.cas !== undefined ? { cas: q.cas } : {}) }));
    }
    throw new FakeConsulError(405, `method ${method} not allowed`);
  }

  /**
   * Blocking query (api-docs/features/blocking): hang while the index is not above `index`, until a
   * change or `wait` (default 5m, at most 10m) plus up to wait/16 of random jitter. An index of 0
   * does not block.
   */
  private async block(key: string, recurse: boolean, index: number, waitText: string | undefined): Promise<void> {
    if (!(index > 0)) return;
    const parsed = waitText ? parseDuration(waitText) : DEFAULT_WAIT_MS;
    if (parsed === null) throw new FakeConsulError(400, `Invalid wait time: ${waitText}`);
    const waitMs = Math.min(parsed, MAX_WAIT_MS);
    const end = Date.now() + waitMs + Math.random() * (waitMs / 16);
    while (this.state.kvIndex(key, recurse) <= index && Date.now() < end && this.mode !== 'refuse') {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => { cancel(); resolve(); }, end - Date.now());
        const cancel = this.state.onChange(key, recurse, () => { clearTimeout(t); resolve(); });
      });
    }
  }

  private session(method: string, rest: string, body: Buffer, res: ServerResponse): void {
    const [op, id = ''] = rest.split('/');
    if (op === 'create' && method === 'PUT') {
      let json: Record<string, unknown> = {};
      try { json = body.length ? (JSON.parse(body.toString('utf8')) as Record<string, unknown>) : {}; } catch {
        throw new FakeConsulError(400, 'Request decode failed: invalid JSON');
      }
      return this.reply(res, 200, { ID: this.state.createSession(json) });
    }
    if (op === 'renew' && method === 'PUT') {
      const s = this.state.renewSession(id);
      if (!s) throw new FakeConsulError(404, `Session id '${id}' not found`);
      return this.reply(res, 200, [this.state.sessionJson(s)], 'application/json', this.state.index);
    }
    if (op === 'destroy' && method === 'PUT') {
      // Docs: idempotent, "If the session UUID does not exist or already expired, a 200 is still returned".
      this.state.invalidate(id);
      return this.reply(res, 200, true);
    }
    if (op === 'info' && method === 'GET') {
      // Docs: "If the session does not exist, an empty JSON list [] is returned."
      const s = this.state.sessions.get(id);
      return this.reply(res, 200, s ? [this.state.sessionJson(s)] : [], 'application/json', this.state.index);
    }
    throw new FakeConsulError(405, `method ${method} not allowed for /v1/session/${op}`);
  }

  /** Agent endpoints answer from the local agent even without a leader (docs: agent is node-local). */
  private agent(method: string, path: string, body: Buffer, res: ServerResponse): void {
    if (path === '/v1/agent/service/register' && method === 'PUT') {
      const json = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
      if (typeof json.Name !== 'string' || !json.Name) throw new FakeConsulError(400, 'Missing service name');
      this.services.set(typeof json.ID === 'string' && json.ID ? json.ID : json.Name, json);
      return this.reply(res, 200, '', 'text/plain');
    }
    if (path.startsWith('/v1/agent/service/deregister/') && method === 'PUT') {
      const id = path.slice('/v1/agent/service/deregister/'.length);
      if (!this.services.delete(id)) throw new FakeConsulError(404, `Unknown service ID "${id}". Ensure that the service ID is passed, not the service name.`);
      return this.reply(res, 200, '', 'text/plain');
    }
    if (path === '/v1/agent/services' && method === 'GET') {
      return this.reply(res, 200, Object.fromEntries(this.services));
    }
    throw new FakeConsulError(404, `fake consul: no route for ${method} ${path}`);
  }
}
