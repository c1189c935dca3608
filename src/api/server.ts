/**
 * The REST server, on node:http with no framework: HAProxy polls it every second per backend, so
 * the per-request path is short (route lookup, a pure health check, a JSON write).
 *
 * Robustness contract: no input makes the server crash, hang or leak a stack trace. Every handler
 * runs inside one try/catch; RequestError becomes its 4xx, DcsUnavailableError 503, anything else
 * 500 with a fixed message (the detail goes to the log). Bodies are capped at 64 KiB and requests
 * must arrive within 10 s, so a slow or hostile client cannot tie the server up.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { parseHostPort } from '../config/index.js';
import { isDcsUnavailable } from '../dcs/errors.js';
import { basicAuthGuard, type Credentials } from './auth.js';
import type { ApiBackend } from './backend.js';
import { parseJsonBody } from './body.js';
import { adminRoutes } from './handlers/admin.js';
import { configRoutes } from './handlers/config.js';
import { raftRoutes } from './handlers/raft.js';
import { readRoutes } from './handlers/read.js';
import { normalizePath, Router } from './router.js';
import { errorResponse, RequestError, type ApiRequest, type ApiResponse, type BodyRule, type Guard, type HandlerContext } from './types.js';

/** Largest accepted request body. Real requests are a few hundred bytes; a whole config a few KiB. */
export const MAX_BODY_BYTES = 64 * 1024;
/** Time allowed to receive a request's headers, and the whole request. */
export const REQUEST_TIMEOUT_MS = 10_000;

export interface ApiLog {
  warn(obj: object, msg?: string): void;
}

export interface ApiServerOptions {
  /** "host:port"; port 0 asks the OS for a free one (tests). */
  readonly listen: string;
  readonly backend: ApiBackend;
  /** restapi.authentication: when set, every mutating request needs these Basic credentials. */
  readonly auth?: Credentials | null;
  readonly log?: ApiLog;
  /** Extra checks before mutating requests, run before auth (e.g. an allowlist). */
  readonly guards?: readonly Guard[];
}

export interface ApiServer {
  readonly port: number;
  close(): Promise<void>;
}

function parseListenAddress(listen: string): { host: string; port: number } {
  // parseHostPort rejects port 0, which tests use to get a free port from the OS.
  const zero = /^(.*):0$/.exec(listen.trim());
  const hp = zero ? { ...parseHostPort(`${zero[1]}:1`, true), port: 0 } : parseHostPort(listen, true);
  return { host: hp.host === '' || hp.host === '*' ? '::' : hp.host, port: hp.port };
}

/** Reads the body under the size cap; resolves undefined when there is none. */
async function readBody(req: IncomingMessage, rule: BodyRule): Promise<unknown> {
  const lengthHeader = req.headers['content-length'];
  const chunked = req.headers['transfer-encoding'] !== undefined;
  if (rule === 'required' && lengthHeader === undefined) {
    throw new RequestError(411, 'a JSON body with a Content-Length header is required');
  }
  if (lengthHeader === undefined && !chunked) return undefined;
  const declared = Number(lengthHeader ?? 0);
  if (declared > MAX_BODY_BYTES) throw new RequestError(413, `request body of ${declared} bytes exceeds the limit of ${MAX_BODY_BYTES}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new RequestError(413, `request body exceeds the limit of ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '' && rule === 'optional') return undefined;
  return parseJsonBody(text);
}

function send(req: IncomingMessage, res: ServerResponse, r: ApiResponse): void {
  if (res.headersSent) return;
  const headers: Record<string, string> = { ...r.headers };
  // HAProxy's OPTIONS/HEAD checks need only the status line.
  const bodyless = req.method === 'HEAD' || req.method === 'OPTIONS';
  let body = '';
  if (r.text) {
    headers['Content-Type'] = r.text.contentType;
    body = r.text.body;
  } else if (r.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(r.json);
  }
  headers['Content-Length'] = String(bodyless ? 0 : Buffer.byteLength(body));
  res.writeHead(r.status, headers);
  res.end(bodyless ? undefined : body);
}

function toResponse(e: unknown, log: ApiLog | undefined, req: IncomingMessage): ApiResponse {
  if (e instanceof RequestError) return errorResponse(e.status, e.message);
  if (isDcsUnavailable(e)) return errorResponse(503, `the DCS is not reachable: ${e.message}`);
  log?.warn({ err: e instanceof Error ? e.message : String(e), method: req.method, url: req.url }, 'REST request failed');
  return errorResponse(500, 'internal error while handling the request; see the agent log');
}

async function handle(router: Router, ctx: HandlerContext, log: ApiLog | undefined, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const method = (req.method ?? 'GET').toUpperCase();
  let url: URL;
  try {
    const raw = req.url ?? '/';
    // Concatenate rather than resolve, so "//x" stays a path and is not read as a host name.
    url = raw.startsWith('/') ? new URL(`http://localhost${raw}`) : new URL(raw);
  } catch {
    return send(req, res, errorResponse(400, 'malformed request URL'));
  }
  const path = normalizePath(url.pathname);
  const match = router.match(method, path);
  if (match.kind === 'not-found') {
    // Patroni answers 503 to unknown paths; 404 makes a typo in a load balancer check visible,
    // and a 4xx still counts as "down" for HAProxy.
    return send(req, res, errorResponse(404, `unknown path ${JSON.stringify(path)}`));
  }
  if (match.kind === 'method-not-allowed') {
    const allow = match.allow.join(', ');
    return send(req, res, errorResponse(405, `method ${method} is not allowed on ${path}${allow ? `; allowed: ${allow}` : ''}`, allow ? { Allow: allow } : undefined));
  }
  const head = { method, path, query: url.searchParams, headers: req.headers, remoteAddress: req.socket.remoteAddress ?? '' };
  for (const guard of match.guards) {
    const refusal = guard(head);
    if (refusal) return refuseAndClose(req, res, refusal);
  }
  try {
    const body = match.route.body === 'none' ? undefined : await readBody(req, match.route.body);
    const request: ApiRequest = { ...head, body };
    send(req, res, await match.route.handler(request, ctx));
  } catch (e) {
    const r = toResponse(e, log, req);
    if (r.status === 413 || r.status === 411) return refuseAndClose(req, res, r);
    send(req, res, r);
  }
}

/** Answers without reading the rest of the body, and closes the connection so it is not parsed as a request. */
function refuseAndClose(req: IncomingMessage, res: ServerResponse, r: ApiResponse): void {
  const unread = !req.complete;
  send(req, res, unread ? { ...r, headers: { ...r.headers, Connection: 'close' } } : r);
  // Node may already have detached the socket (an aborted body read destroys the request stream);
  // the Connection: close header then makes node close it after the response.
  const socket = req.socket as Socket | null;
  if (unread && socket) res.once('finish', () => socket.destroySoon());
}

/** Starts the REST API; resolves once it listens. */
export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const guards = [...(opts.guards ?? []), ...(opts.auth ? [basicAuthGuard(opts.auth)] : [])];
  const router = new Router([...readRoutes, ...raftRoutes, ...configRoutes, ...adminRoutes], guards);
  const ctx: HandlerContext = { backend: opts.backend };
  const server: Server = createServer((req, res) => {
    handle(router, ctx, opts.log, req, res).catch((e: unknown) => {
      // handle() catches handler errors itself; this is the last line of defence for send().
      opts.log?.warn({ err: e instanceof Error ? e.message : String(e) }, 'REST response failed');
      if (!res.headersSent) send(req, res, errorResponse(500, 'internal error'));
      else res.destroy();
    });
  });
  server.headersTimeout = REQUEST_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = 5_000;
  const { host, port } = parseListenAddress(opts.listen);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
