/**
 * The shared DCS contract suite against the Consul adapter. By default the store is the FAKE Consul
 * (test/support/fake-consul.ts), since no Consul binary can be installed here. With CONSUL_BIN set
 * to a real `consul` binary, the same suite runs against a real single-server Consul in -dev mode
 * on free loopback ports (untested here; -dev keeps data in memory, so stopServer/startServer lose
 * it, which the suite tolerates: it only requires the adapter to work again).
 *
 * Each member talks to the store through its own FaultProxy, so `silence` cuts one member only.
 * Both stores are given session_ttl_min = 1s: the suite's ttl of 4 s means 2 s sessions, below
 * Consul's default minimum of 10 s.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsulDcs } from '../../src/dcs/consul/adapter.js';
import type { Dcs } from '../../src/dcs/port.js';
import { FakeConsul } from '../support/fake-consul.js';
import { freePort, waitFor } from '../support/ports.js';
import { spawnManaged, type Managed } from '../support/procs.js';
import { FaultProxy } from '../support/proxy.js';
import { dcsContract, type ContractHarness } from './contract.js';

interface Store {
  readonly port: number;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
}

async function fakeStore(): Promise<Store> {
  const fake = await FakeConsul.start({ sessionTtlMinMs: 1000 });
  return {
    port: fake.port,
    stop: () => fake.setMode('refuse'),
    start: () => fake.setMode('up'),
    destroy: () => fake.close(),
  };
}

/** A real Consul agent (-dev: one in-memory server) on free loopback ports. */
async function realStore(bin: string): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'consul-test-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true })); // even when the suite fails
  const [http, serfLan, serfWan, server] = [await freePort(), await freePort(), await freePort(), await freePort()];
  let proc: Managed | null = null;
  const launch = async () => {
    proc = spawnManaged(bin, [
      'agent', '-dev', '-node', 'contract', '-bind', '127.0.0.1', '-client', '127.0.0.1',
      '-http-port', String(http), '-serf-lan-port', String(serfLan), '-serf-wan-port', String(serfWan),
      '-server-port', String(server), '-dns-port', '-1', '-grpc-port', '-1',
      '-hcl', 'session_ttl_min = "1s"',
    ], { logFile: join(dir, 'consul.log') });
    await waitFor('consul to elect itself leader', async () => {
      const r = await fetch(`http://127.0.0.1:${http}/v1/status/leader`).catch(() => null);
      return r?.ok ? (await r.text()).length > 2 : false;
    }, 20_000, 100);
  };
  await launch();
  return {
    port: http,
    async stop() { await proc?.stop(3000); proc = null; },
    start: launch,
    async destroy() { await proc?.stop(3000); proc = null; rmSync(dir, { recursive: true, force: true }); },
  };
}

const bin = process.env.CONSUL_BIN;
dcsContract(bin ? `consul (real consul at ${bin})` : 'consul (FAKE consul)', async (): Promise<ContractHarness> => {
  const store = bin ? await realStore(bin) : await fakeStore();
  const links = new Map<Dcs, FaultProxy>();
  return {
    ttlSeconds: 4,
    retryTimeoutMs: 2000,
    async open(o) {
      const proxy = await new FaultProxy('127.0.0.1', store.port).start();
      const dcs = new ConsulDcs({
        namespace: '/service/', scope: o.scope, member: o.member,
        ttlSeconds: o.ttlSeconds ?? 4, retryTimeoutMs: o.retryTimeoutMs ?? 2000,
        host: '127.0.0.1', port: proxy.port, scheme: 'http',
      });
      links.set(dcs, proxy);
      return dcs;
    },
    silence(d) { links.get(d)?.blackhole(); },
    heal(d) { links.get(d)?.heal(); },
    stopServer: () => store.stop(),
    startServer: () => store.start(),
    async teardown() {
      for (const p of links.values()) await p.close();
      await store.destroy();
    },
  };
});
