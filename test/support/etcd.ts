/**
 * A real etcd (Debian's etcd-server, 3.4) for tests: one member on loopback with free ports and a
 * temp data dir, started in its own process group and always stopped afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitFor } from './ports.js';
import { spawnManaged, type Managed } from './procs.js';

export const ETCD_BIN = process.env.ETCD_BIN ?? '/usr/bin/etcd';

export class EtcdServer {
  private proc: Managed | null = null;
  readonly dir: string;
  clientPort = 0;
  peerPort = 0;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'etcd-test-'));
  }

  get endpoint(): string { return `127.0.0.1:${this.clientPort}`; }

  static async start(): Promise<EtcdServer> {
    const s = new EtcdServer();
    s.clientPort = await freePort();
    s.peerPort = await freePort();
    await s.launch();
    return s;
  }

  private async launch(): Promise<void> {
    const client = `http://127.0.0.1:${this.clientPort}`;
    const peer = `http://127.0.0.1:${this.peerPort}`;
    this.proc = spawnManaged(ETCD_BIN, [
      '--name', 'test', '--data-dir', join(this.dir, 'data'),
      '--listen-client-urls', client, '--advertise-client-urls', client,
      '--listen-peer-urls', peer, '--initial-advertise-peer-urls', peer,
      '--initial-cluster', `test=${peer}`, '--initial-cluster-state', 'new',
      '--heartbeat-interval', '50', '--election-timeout', '500', '--logger', 'zap', '--log-outputs', 'stderr',
    ], { logFile: join(this.dir, 'etcd.log') });
    await waitFor('etcd to answer /health', async () => {
      const r = await fetch(`${client}/health`).catch(() => null);
      return r?.ok ? true : false;
    }, 15_000, 100);
  }

  /** Stop (SIGTERM) and keep the data dir, so restart() brings the same store back. */
  async stop(): Promise<void> {
    await this.proc?.stop(3000);
    this.proc = null;
  }

  /** SIGKILL, as a crash. */
  async kill(): Promise<void> {
    if (!this.proc) return;
    this.proc.signal('SIGKILL');
    await this.proc.exited;
    this.proc = null;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
