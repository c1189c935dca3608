/**
 * A three-member etcd 3.4 cluster on loopback (ports from the OS, temp data dirs, each member in its
 * own process group and always stopped), for comparing the built-in Raft store with etcd on the same
 * machine and under the same load. etcd's defaults otherwise (fsync on, heartbeat 100 ms).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Etcd3 } from 'etcd3';
import { ETCD_BIN } from '../test/support/etcd.js';
import { freePort, waitFor } from '../test/support/ports.js';
import { spawnManaged, type Managed } from '../test/support/procs.js';

export interface EtcdMember { readonly name: string; readonly clientUrl: string; readonly endpoint: string }

export class EtcdCluster {
  private constructor(
    readonly members: readonly EtcdMember[],
    private readonly procs: readonly Managed[],
    private readonly dir: string,
  ) {}

  /** Starts three members and waits until each answers /health. */
  static async start(): Promise<EtcdCluster> {
    const dir = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'etcd-bench-'));
    const procs: Managed[] = [];
    try {
      const ports = await Promise.all(Array.from({ length: 6 }, () => freePort()));
      const spec = [0, 1, 2].map((i) => ({ name: `e${i}`, client: `http://127.0.0.1:${ports[2 * i]}`, peer: `http://127.0.0.1:${ports[2 * i + 1]}` }));
      const initial = spec.map((s) => `${s.name}=${s.peer}`).join(',');
      for (const s of spec) {
        procs.push(spawnManaged(ETCD_BIN, [
          '--name', s.name, '--data-dir', join(dir, s.name),
          '--listen-client-urls', s.client, '--advertise-client-urls', s.client,
          '--listen-peer-urls', s.peer, '--initial-advertise-peer-urls', s.peer,
          '--initial-cluster', initial, '--initial-cluster-state', 'new', '--logger', 'zap', '--log-outputs', 'stderr',
        ], { logFile: join(dir, `${s.name}.log`) }));
      }
      for (const s of spec) {
        await waitFor(`etcd ${s.name} to answer /health`, async () => (await fetch(`${s.client}/health`).catch(() => null))?.ok ?? false, 20_000, 100);
      }
      return new EtcdCluster(spec.map((s) => ({ name: s.name, clientUrl: s.client, endpoint: s.client.replace('http://', '') })), procs, dir);
    } catch (e) {
      await Promise.all(procs.map((p) => p.stop(2000)));
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  /** The member that currently leads, asked of each member's maintenance status. */
  async leader(): Promise<EtcdMember> {
    for (const m of this.members) {
      const c = new Etcd3({ hosts: [m.endpoint] });
      try {
        const s = await c.maintenance.status();
        if (s.leader === s.header.member_id) return m;
      } finally {
        c.close();
      }
    }
    throw new Error('no etcd member reports itself as the leader');
  }

  async destroy(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop(3000)));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
