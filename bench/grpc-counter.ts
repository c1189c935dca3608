/**
 * A counting TCP proxy on loopback, for the idle-footprint benchmark: one per agent, between the
 * agent and etcd, so DCS traffic can be attributed to a node. It forwards bytes unchanged and reads
 * the client-to-server direction as HTTP/2 (gRPC runs over cleartext HTTP/2 with prior knowledge on
 * loopback), counting:
 *  - `calls`: HEADERS frames the client sends, i.e. RPCs started (a unary Put/Range/Txn is one call;
 *    a lease keep-alive or watch stream is one call carrying many messages);
 *  - `messages`: complete gRPC request messages (5-byte length-prefixed) in the client's DATA frames:
 *    every unary request plus every keep-alive or watch request sent on a stream. This is the figure
 *    reported as "DCS requests";
 *  - bytes each way and TCP connections accepted.
 * HPACK is not decoded, so method names are unknown; the counts are by frame and message only.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface DcsTraffic {
  connections: number;
  calls: number;
  messages: number;
  bytesUp: number;
  bytesDown: number;
}

const PREFACE_LEN = 24; // "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
const FRAME_DATA = 0x0;
const FRAME_HEADERS = 0x1;
const FLAG_PADDED = 0x8;

/** Parses one connection's client-to-server HTTP/2 byte stream incrementally. */
class UpstreamParser {
  private buf: Buffer = Buffer.alloc(0);
  private prefaceLeft = PREFACE_LEN;
  /** Per stream: gRPC bytes not yet forming a whole message. */
  private readonly pending = new Map<number, Buffer>();

  /** `counts` is read on every frame, so a reset by takeCounts() applies to open connections too. */
  constructor(private readonly counts: () => DcsTraffic) {}

  push(chunk: Buffer): void {
    if (this.prefaceLeft > 0) {
      const skip = Math.min(this.prefaceLeft, chunk.length);
      this.prefaceLeft -= skip;
      chunk = chunk.subarray(skip);
    }
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 9) {
      const len = this.buf.readUIntBE(0, 3);
      if (this.buf.length < 9 + len) break;
      const type = this.buf[3]!;
      const flags = this.buf[4]!;
      const stream = this.buf.readUInt32BE(5) & 0x7fffffff;
      const payload = this.buf.subarray(9, 9 + len);
      this.buf = this.buf.subarray(9 + len);
      if (type === FRAME_HEADERS) this.counts().calls++;
      else if (type === FRAME_DATA) this.data(stream, flags, payload);
    }
  }

  private data(stream: number, flags: number, payload: Buffer): void {
    let body = payload;
    if (flags & FLAG_PADDED) {
      const pad = payload[0] ?? 0;
      body = payload.subarray(1, payload.length - pad);
    }
    let acc: Buffer = Buffer.concat([this.pending.get(stream) ?? Buffer.alloc(0), body]);
    // gRPC framing: 1 byte compressed flag, 4 bytes big-endian length, then the message.
    while (acc.length >= 5) {
      const msgLen = acc.readUInt32BE(1);
      if (acc.length < 5 + msgLen) break;
      this.counts().messages++;
      acc = acc.subarray(5 + msgLen);
    }
    if (acc.length) this.pending.set(stream, acc);
    else this.pending.delete(stream);
  }
}

/** A pass-through proxy to `targetHost:targetPort` that counts what passes (see the file comment). */
export class CountingProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  counts: DcsTraffic = CountingProxy.zero();
  port = 0;

  constructor(private readonly targetHost: string, private readonly targetPort: number) {}

  static zero(): DcsTraffic { return { connections: 0, calls: 0, messages: 0, bytesUp: 0, bytesDown: 0 }; }

  get endpoint(): string { return `127.0.0.1:${this.port}`; }

  async start(): Promise<this> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    return this;
  }

  /** Returns the counts so far and starts a new interval from zero. */
  takeCounts(): DcsTraffic {
    const c = this.counts;
    this.counts = CountingProxy.zero();
    return c;
  }

  private accept(client: Socket): void {
    this.counts.connections++;
    const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
    const parser = new UpstreamParser(() => this.counts);
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    client.on('data', (buf: Buffer) => {
      this.counts.bytesUp += buf.length;
      parser.push(buf);
      upstream.write(buf);
    });
    upstream.on('data', (buf: Buffer) => {
      this.counts.bytesDown += buf.length;
      client.write(buf);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
