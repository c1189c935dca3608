/**
 * A TCP fault proxy on loopback between a client and a server (as etcd3's test Proxy does): it can
 * pass traffic, blackhole it (connections stay open, bytes vanish: the worst case for a client,
 * which only a deadline can detect), reset every connection, or delay data.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export type ProxyMode = 'pass' | 'blackhole' | 'reject';

export class FaultProxy {
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  mode: ProxyMode = 'pass';
  delayMs = 0;
  port = 0;

  constructor(private readonly targetHost: string, private readonly targetPort: number) {}

  get endpoint(): string { return `127.0.0.1:${this.port}`; }

  async start(port = 0): Promise<this> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    const addr = this.server.address();
    this.port = typeof addr === 'object' && addr ? addr.port : 0;
    return this;
  }

  private accept(client: Socket): void {
    if (this.mode === 'reject') { client.destroy(); return; }
    const upstream = createConnection({ host: this.targetHost, port: this.targetPort });
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => { client.destroy(); upstream.destroy(); });
    }
    const forward = (from: Socket, to: Socket) => from.on('data', (buf) => {
      if (this.mode !== 'pass') return; // blackhole: drop silently
      if (this.delayMs > 0) setTimeout(() => to.write(buf), this.delayMs);
      else to.write(buf);
    });
    forward(client, upstream);
    forward(upstream, client);
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  }

  blackhole(): void { this.mode = 'blackhole'; }
  heal(): void { this.mode = 'pass'; }
  /** Reset every open connection and refuse new ones until heal(). */
  cut(): void {
    this.mode = 'reject';
    for (const s of this.sockets) s.destroy();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }
}
