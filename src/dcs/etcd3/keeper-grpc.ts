/**
 * A minimal etcd v3 gRPC client for the lease keeper thread (keeper-worker.ts): LeaseKeepAlive, and
 * Authenticate when the cluster uses user/password auth, spoken over node:http2 with the few
 * protobuf fields they need encoded by hand.
 *
 * Why not the `etcd3` package here: a worker thread is a second V8 isolate, and loading etcd3 into
 * it (grpc-js, protobufjs, the compiled etcd protos) made that thread cost ~20 MiB of RSS and most
 * of its CPU in garbage collection, for one tiny RPC every couple of seconds (issue 4: footprint).
 *
 * Contract: keepAlive() makes one round trip within `timeoutMs` and resolves the TTL the server
 * granted (0 when the lease no longer exists); any transport, HTTP/2 or gRPC failure rejects. A
 * failed call drops the connection and the next call tries the next host.
 */
import { connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type SecureClientSessionOptions } from 'node:http2';

/** Where and how to reach etcd; the fields mirror Etcd3Options. */
export interface KeeperEndpoint {
  /** "host:port" or "scheme://host:port" entries. */
  readonly hosts: readonly string[];
  readonly protocol?: 'http' | 'https';
  readonly username?: string;
  readonly password?: string;
  readonly cacert?: Uint8Array;
  readonly cert?: Uint8Array;
  readonly key?: Uint8Array;
}

/** A gRPC call that ended with a non-OK status (or an HTTP/2 failure, code null). */
export class KeeperCallError extends Error {
  constructor(message: string, readonly code: number | null) {
    super(message);
    this.name = 'KeeperCallError';
  }
}

const UNAUTHENTICATED = 16;

// --- protobuf, just enough of it ---

function varint(v: bigint): number[] {
  // int64 fields are encoded as 64-bit two's complement varints (10 bytes when negative).
  let x = BigInt.asUintN(64, v);
  const out: number[] = [];
  while (x >= 0x80n) { out.push(Number(x & 0x7fn) | 0x80); x >>= 7n; }
  out.push(Number(x));
  return out;
}

function stringField(field: number, s: string): number[] {
  const b = Buffer.from(s, 'utf8');
  return [(field << 3) | 2, ...varint(BigInt(b.length)), ...b];
}

/** LeaseKeepAliveRequest { int64 ID = 1; } */
export function encodeKeepAliveRequest(id: bigint): Buffer {
  return Buffer.from([0x08, ...varint(id)]);
}

/** AuthenticateRequest { string name = 1; string password = 2; } */
export function encodeAuthenticateRequest(name: string, password: string): Buffer {
  return Buffer.from([...stringField(1, name), ...stringField(2, password)]);
}

type Field = { readonly n: number; readonly int: bigint | null; readonly bytes: Buffer | null };

/** The top-level fields of one protobuf message (nested messages are left as bytes). */
export function decodeFields(buf: Buffer): Field[] {
  const fields: Field[] = [];
  let pos = 0;
  const readVarint = (): bigint => {
    let v = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (pos >= buf.length || shift > 63n) throw new KeeperCallError('malformed protobuf varint', null);
      const b = buf[pos++]!;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
  };
  while (pos < buf.length) {
    const tag = Number(readVarint());
    const n = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) fields.push({ n, int: BigInt.asIntN(64, readVarint()), bytes: null });
    else if (wire === 2) {
      const len = Number(readVarint());
      if (pos + len > buf.length) throw new KeeperCallError('truncated protobuf field', null);
      fields.push({ n, int: null, bytes: buf.subarray(pos, pos + len) });
      pos += len;
    } else if (wire === 1 || wire === 5) pos += wire === 1 ? 8 : 4;
    else throw new KeeperCallError(`unsupported protobuf wire type ${wire}`, null);
  }
  return fields;
}

/** LeaseKeepAliveResponse { ResponseHeader header = 1; int64 ID = 2; int64 TTL = 3; } */
export function decodeKeepAliveResponse(buf: Buffer): { id: bigint; ttl: bigint } {
  const f = decodeFields(buf);
  return { id: f.find((x) => x.n === 2)?.int ?? 0n, ttl: f.find((x) => x.n === 3)?.int ?? 0n };
}

/** The gRPC length-prefixed message framing (uncompressed). */
export function grpcFrame(msg: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(msg.length, 1);
  return Buffer.concat([head, msg]);
}

/** Resolves the first message of a gRPC response stream; rejects on a non-OK status or no message. */
function firstMessage(stream: ClientHttp2Stream): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    let buf: Buffer = Buffer.alloc(0);
    let done = false;
    const finish = (err: Error | null, msg?: Buffer) => {
      if (done) return;
      done = true;
      if (err) reject(err); else resolve(msg!);
    };
    const status = (h: Record<string, unknown>) => {
      const code = h['grpc-status'];
      if (code !== undefined && String(code) !== '0') {
        const text = decodeURIComponent(String(h['grpc-message'] ?? ''));
        finish(new KeeperCallError(`grpc status ${String(code)}: ${text}`, Number(code)));
      }
    };
    stream.on('response', (h) => {
      const st = h[':status'];
      if (st !== undefined && Number(st) !== 200) finish(new KeeperCallError(`HTTP status ${String(st)}`, null));
      else status(h);
    });
    stream.on('trailers', status);
    stream.on('data', (chunk: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      if (buf.length < 5) return;
      if (buf[0] !== 0) { finish(new KeeperCallError('compressed gRPC message not supported', null)); return; }
      const len = buf.readUInt32BE(1);
      if (buf.length >= 5 + len) finish(null, buf.subarray(5, 5 + len));
    });
    stream.on('error', (e: Error) => finish(new KeeperCallError(e.message, null)));
    stream.on('close', () => finish(new KeeperCallError('stream closed without a response', null)));
  });
}

export class KeepAliveClient {
  private session: ClientHttp2Session | null = null;
  private hostIndex = 0;
  private token: string | null = null;
  private readonly urls: string[];

  constructor(private readonly ep: KeeperEndpoint) {
    const scheme = ep.protocol ?? (ep.cacert ? 'https' : 'http');
    this.urls = ep.hosts.map((h) => (h.includes('://') ? h : `${scheme}://${h}`));
    if (this.urls.length === 0) throw new Error('etcd keeper: no hosts');
  }

  private connection(): ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const url = this.urls[this.hostIndex % this.urls.length]!;
    const tls: SecureClientSessionOptions = {
      ...(this.ep.cacert ? { ca: Buffer.from(this.ep.cacert) } : {}),
      ...(this.ep.cert ? { cert: Buffer.from(this.ep.cert) } : {}),
      ...(this.ep.key ? { key: Buffer.from(this.ep.key) } : {}),
    };
    const s = connect(url, tls);
    // Errors surface on the call's stream; a dead session is simply replaced on the next call.
    s.on('error', () => undefined);
    s.on('close', () => { if (this.session === s) this.session = null; });
    s.on('goaway', () => { if (this.session === s) this.session = null; });
    // The keeper must never keep the agent alive on its own.
    s.unref();
    this.session = s;
    return s;
  }

  /** Drop the connection and move to the next host (after a failed call). */
  private fail(): void {
    this.session?.destroy();
    this.session = null;
    this.hostIndex++;
  }

  /** One unary-or-bidi call that sends `msg` and resolves the first response message. */
  private async call(path: string, msg: Buffer, timeoutMs: number): Promise<Buffer> {
    const headers: Record<string, string> = {
      ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers',
      'grpc-timeout': `${Math.max(1, Math.ceil(timeoutMs))}m`,
    };
    if (this.token) headers['token'] = this.token;
    let stream: ClientHttp2Stream | null = null;
    let timer: NodeJS.Timeout | undefined;
    try {
      stream = this.connection().request(headers);
      // Half-close after the one request: etcd answers it, then ends the stream.
      stream.end(grpcFrame(msg));
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new KeeperCallError(`no answer within ${timeoutMs} ms`, null)), timeoutMs);
      });
      return await Promise.race([firstMessage(stream), timeout]);
    } catch (e) {
      const err = e instanceof KeeperCallError ? e : new KeeperCallError(e instanceof Error ? e.message : String(e), null);
      if (err.code === UNAUTHENTICATED || /auth token/i.test(err.message)) this.token = null;
      else if (err.code === null) this.fail();
      throw err;
    } finally {
      clearTimeout(timer);
      if (stream && !stream.closed) stream.close(constants.NGHTTP2_CANCEL);
    }
  }

  private async authenticate(timeoutMs: number): Promise<void> {
    const { username, password } = this.ep;
    if (!username || !password || this.token) return;
    const res = await this.call('/etcdserverpb.Auth/Authenticate', encodeAuthenticateRequest(username, password), timeoutMs);
    const token = decodeFields(res).find((f) => f.n === 2)?.bytes;
    if (!token) throw new KeeperCallError('authenticate: no token in the answer', null);
    this.token = token.toString('utf8');
  }

  /** One keep-alive round trip for lease `id`: the TTL granted, 0 when the lease is gone. */
  async keepAlive(id: bigint, timeoutMs: number): Promise<number> {
    let left = timeoutMs;
    if (this.ep.username && !this.token) {
      // Authenticating and the keep-alive share the one budget.
      const start = Date.now();
      await this.authenticate(timeoutMs);
      left = Math.max(1, timeoutMs - (Date.now() - start));
    }
    const res = decodeKeepAliveResponse(await this.call('/etcdserverpb.Lease/LeaseKeepAlive', encodeKeepAliveRequest(id), left));
    return Number(res.ttl);
  }

  close(): void {
    this.session?.close();
    this.session = null;
  }
}
