/**
 * Test helpers: start the REST server on a free loopback port against a FakeBackend, and send
 * requests with full control over headers and body bytes.
 */
import { after } from 'node:test';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { startApiServer, type ApiServer } from '../../src/api/server.js';
import type { Credentials } from '../../src/api/auth.js';
import { FakeBackend } from './fake-backend.js';

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  json(): unknown;
}

const open = new Set<ApiServer>();
process.on('exit', () => { for (const s of open) void s.close(); });

/** Starts a server for the current test file; it is closed by an after() hook. */
export async function startFake(auth: Credentials | null = null): Promise<{ backend: FakeBackend; port: number; server: ApiServer; warnings: string[] }> {
  const backend = new FakeBackend();
  const warnings: string[] = [];
  const server = await startApiServer({ listen: '127.0.0.1:0', backend, auth, log: { warn: (obj, msg) => warnings.push(`${msg ?? ''} ${JSON.stringify(obj)}`) } });
  open.add(server);
  after(async () => { open.delete(server); await server.close(); });
  return { backend, port: server.port, server, warnings };
}

export interface SendOptions {
  readonly body?: unknown;
  /** Raw body text (sent as is); overrides `body`. */
  readonly raw?: string;
  readonly headers?: Record<string, string>;
  /** Send without a Content-Length header (chunked). */
  readonly chunked?: boolean;
}

export function send(port: number, method: string, path: string, o: SendOptions = {}): Promise<Reply> {
  const payload = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...o.headers };
    if (payload !== undefined && !o.chunked) headers['Content-Length'] = String(Buffer.byteLength(payload));
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as unknown });
      });
      res.on('error', reject);
    });
    req.setTimeout(5000, () => req.destroy(new Error(`${method} ${path}: no answer within 5 s`)));
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

/** Writes raw bytes on a fresh connection and returns the first status code (or null on close). */
export function sendRaw(port: number, bytes: string, waitMs = 2000): Promise<number | null> {
  return new Promise((resolve) => {
    const sock = connect(port, '127.0.0.1');
    let data = '';
    const done = (v: number | null): void => { clearTimeout(timer); sock.destroy(); resolve(v); };
    const timer = setTimeout(() => done(null), waitMs);
    sock.on('data', (c: Buffer) => {
      data += c.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(data);
      if (m) done(Number(m[1]));
    });
    sock.on('error', () => done(null));
    sock.on('close', () => done(null));
    sock.write(bytes);
  });
}

export const basic = (user: string, pass: string): Record<string, string> => ({
  Authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`,
});
